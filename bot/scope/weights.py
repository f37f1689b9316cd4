"""Weights of the learned scope decision (`bot.scope.model`). Written by `python -m bench.scope.learn
--write` from 1284 labelled requests over every project in bench/scope and the shared dev set; do
not edit by hand: retrain."""

LEAK_COST = 2.0
CLAUSE_MIN = 0.5

FEATURES = (
    "added",
    "additive",
    "additive_gap",
    "bug",
    "char_agree",
    "char_best",
    "char_item",
    "char_out",
    "char_out_vs_in",
    "cjk",
    "coverage",
    "cross",
    "cue_ask",
    "cue_how",
    "cue_new",
    "cue_qmark",
    "cue_report",
    "fired_excluded",
    "has_exclusion",
    "limit",
    "margin",
    "multi",
    "named_kind",
    "named_title",
    "negated",
    "no_item",
    "out_cov",
    "out_distinct",
    "out_share",
    "out_title",
    "out_vs_in",
    "product",
    "question",
    "rule_excluded",
    "rule_excluded_named",
    "rule_extends",
    "rule_in",
    "rule_limit",
    "rule_no_item",
    "rule_product",
    "rule_weak",
    "second",
    "self_service",
    "size",
    "strength",
    "switched",
    "title_cov",
    "uncovered",
    "unknown",
    "weak",
    "x_audience",
    "x_beyond",
    "x_new",
    "x_period",
    "x_quantity",
    "x_unnamed",
)


# One row per verdict (in scope, out of scope, unlisted), one weight per feature.
COEF = (
    (
        -0.7356,  # added
        -1.4253,  # additive
        0.4969,  # additive_gap
        1.0509,  # bug
        0.5245,  # char_agree
        -0.1704,  # char_best
        -0.2391,  # char_item
        -0.5887,  # char_out
        -1.2866,  # char_out_vs_in
        -0.1981,  # cjk
        0.4327,  # coverage
        0.0215,  # cross
        -0.8386,  # cue_ask
        1.5074,  # cue_how
        0.5276,  # cue_new
        -0.733,  # cue_qmark
        0.379,  # cue_report
        -0.0834,  # fired_excluded
        -0.1237,  # has_exclusion
        0.143,  # limit
        -0.1407,  # margin
        1.5537,  # multi
        -0.2781,  # named_kind
        -0.0926,  # named_title
        -0.3428,  # negated
        -0.121,  # no_item
        -0.6538,  # out_cov
        -0.5889,  # out_distinct
        0.2176,  # out_share
        -0.1607,  # out_title
        -0.3736,  # out_vs_in
        -1.0819,  # product
        0.267,  # question
        -0.0834,  # rule_excluded
        -0.2571,  # rule_excluded_named
        -0.1431,  # rule_extends
        1.0431,  # rule_in
        0.2481,  # rule_limit
        -0.0806,  # rule_no_item
        -0.4202,  # rule_product
        -0.3025,  # rule_weak
        0.2659,  # second
        -0.4742,  # self_service
        -0.9121,  # size
        0.5041,  # strength
        -0.8025,  # switched
        -1.3103,  # title_cov
        -0.455,  # uncovered
        -0.1411,  # unknown
        0.6042,  # weak
        -0.3468,  # x_audience
        -0.5237,  # x_beyond
        -0.2515,  # x_new
        -0.0531,  # x_period
        0.631,  # x_quantity
        -0.8782,  # x_unnamed
    ),
    (
        -0.3768,  # added
        0.2736,  # additive
        0.2431,  # additive_gap
        -0.6482,  # bug
        -0.4154,  # char_agree
        -0.1567,  # char_best
        0.1117,  # char_item
        0.7018,  # char_out
        0.9043,  # char_out_vs_in
        0.0356,  # cjk
        -0.7109,  # coverage
        0.2566,  # cross
        0.1275,  # cue_ask
        -0.2681,  # cue_how
        -0.7223,  # cue_new
        0.5009,  # cue_qmark
        -0.1123,  # cue_report
        0.4746,  # fired_excluded
        0.5239,  # has_exclusion
        -0.4614,  # limit
        0.2206,  # margin
        -0.6847,  # multi
        0.7948,  # named_kind
        0.79,  # named_title
        0.2447,  # negated
        -0.1652,  # no_item
        2.5607,  # out_cov
        0.913,  # out_distinct
        -0.203,  # out_share
        -0.1872,  # out_title
        0.2332,  # out_vs_in
        0.439,  # product
        -0.5672,  # question
        0.4746,  # rule_excluded
        0.7271,  # rule_excluded_named
        -0.7173,  # rule_extends
        -0.8499,  # rule_in
        -0.3298,  # rule_limit
        0.6036,  # rule_no_item
        0.0848,  # rule_product
        0.0003,  # rule_weak
        -0.0621,  # second
        -0.1042,  # self_service
        -1.0524,  # size
        0.0766,  # strength
        -0.091,  # switched
        0.6224,  # title_cov
        0.5617,  # uncovered
        -0.0301,  # unknown
        -0.8307,  # weak
        -0.198,  # x_audience
        -0.4084,  # x_beyond
        0.0289,  # x_new
        0.4811,  # x_period
        -0.6926,  # x_quantity
        -0.1042,  # x_unnamed
    ),
    (
        1.1125,  # added
        1.1517,  # additive
        -0.7399,  # additive_gap
        -0.4027,  # bug
        -0.1092,  # char_agree
        0.3271,  # char_best
        0.1275,  # char_item
        -0.1132,  # char_out
        0.3823,  # char_out_vs_in
        0.1625,  # cjk
        0.2782,  # coverage
        -0.2781,  # cross
        0.7111,  # cue_ask
        -1.2393,  # cue_how
        0.1948,  # cue_new
        0.2322,  # cue_qmark
        -0.2667,  # cue_report
        -0.3912,  # fired_excluded
        -0.4001,  # has_exclusion
        0.3185,  # limit
        -0.0799,  # margin
        -0.8689,  # multi
        -0.5166,  # named_kind
        -0.6974,  # named_title
        0.0981,  # negated
        0.2861,  # no_item
        -1.9069,  # out_cov
        -0.3241,  # out_distinct
        -0.0147,  # out_share
        0.3479,  # out_title
        0.1405,  # out_vs_in
        0.6429,  # product
        0.3001,  # question
        -0.3912,  # rule_excluded
        -0.4701,  # rule_excluded_named
        0.8604,  # rule_extends
        -0.1932,  # rule_in
        0.0818,  # rule_limit
        -0.523,  # rule_no_item
        0.3354,  # rule_product
        0.3023,  # rule_weak
        -0.2038,  # second
        0.5784,  # self_service
        1.9645,  # size
        -0.5807,  # strength
        0.8935,  # switched
        0.6878,  # title_cov
        -0.1068,  # uncovered
        0.1713,  # unknown
        0.2264,  # weak
        0.5448,  # x_audience
        0.9321,  # x_beyond
        0.2225,  # x_new
        -0.4279,  # x_period
        0.0616,  # x_quantity
        0.9825,  # x_unnamed
    ),
)
BIAS = (
    1.0704,
    -0.7262,
    -0.3442,
)

# Whether the closest item is the right one (no, yes), for a request in scope.
ITEM_COEF = (
    (
        0.0,  # added
        -0.0403,  # additive
        0.3158,  # additive_gap
        0.248,  # bug
        -0.548,  # char_agree
        -0.1148,  # char_best
        -0.4107,  # char_item
        -0.3704,  # char_out
        -0.7226,  # char_out_vs_in
        0.0011,  # cjk
        -0.3061,  # coverage
        -0.0016,  # cross
        0.2535,  # cue_ask
        0.219,  # cue_how
        -0.0913,  # cue_new
        -0.1527,  # cue_qmark
        -0.2089,  # cue_report
        0.0875,  # fired_excluded
        0.4161,  # has_exclusion
        -0.136,  # limit
        -0.2676,  # margin
        0.0,  # multi
        0.0,  # named_kind
        0.0,  # named_title
        -0.207,  # negated
        0.0,  # no_item
        -0.3964,  # out_cov
        -0.3172,  # out_distinct
        -0.0912,  # out_share
        -0.1126,  # out_title
        0.1172,  # out_vs_in
        0.0,  # product
        -0.127,  # question
        0.0875,  # rule_excluded
        0.0,  # rule_excluded_named
        0.2012,  # rule_extends
        -0.0548,  # rule_in
        -0.136,  # rule_limit
        0.0,  # rule_no_item
        0.0,  # rule_product
        -0.0903,  # rule_weak
        0.2751,  # second
        0.0,  # self_service
        0.4849,  # size
        -0.4863,  # strength
        0.0,  # switched
        -0.2268,  # title_cov
        0.4494,  # uncovered
        -0.551,  # unknown
        0.0919,  # weak
        0.0,  # x_audience
        -0.1863,  # x_beyond
        0.3441,  # x_new
        -0.1406,  # x_period
        0.0258,  # x_quantity
        -0.0107,  # x_unnamed
    ),
    (
        0.0,  # added
        0.0403,  # additive
        -0.3158,  # additive_gap
        -0.248,  # bug
        0.548,  # char_agree
        0.1148,  # char_best
        0.4107,  # char_item
        0.3704,  # char_out
        0.7226,  # char_out_vs_in
        -0.0011,  # cjk
        0.3061,  # coverage
        0.0016,  # cross
        -0.2535,  # cue_ask
        -0.219,  # cue_how
        0.0913,  # cue_new
        0.1527,  # cue_qmark
        0.2089,  # cue_report
        -0.0875,  # fired_excluded
        -0.4161,  # has_exclusion
        0.136,  # limit
        0.2676,  # margin
        0.0,  # multi
        0.0,  # named_kind
        0.0,  # named_title
        0.207,  # negated
        0.0,  # no_item
        0.3964,  # out_cov
        0.3172,  # out_distinct
        0.0912,  # out_share
        0.1126,  # out_title
        -0.1172,  # out_vs_in
        0.0,  # product
        0.127,  # question
        -0.0875,  # rule_excluded
        0.0,  # rule_excluded_named
        -0.2012,  # rule_extends
        0.0548,  # rule_in
        0.136,  # rule_limit
        0.0,  # rule_no_item
        0.0,  # rule_product
        0.0903,  # rule_weak
        -0.2751,  # second
        0.0,  # self_service
        -0.4849,  # size
        0.4863,  # strength
        0.0,  # switched
        0.2268,  # title_cov
        -0.4494,  # uncovered
        0.551,  # unknown
        -0.0919,  # weak
        0.0,  # x_audience
        0.1863,  # x_beyond
        -0.3441,  # x_new
        0.1406,  # x_period
        -0.0258,  # x_quantity
        0.0107,  # x_unnamed
    ),
)
ITEM_BIAS = (
    0.0381,
    -0.0381,
)

# Whether the exclusion found is the right one (no, yes), when excluded.
EXCLUSION_COEF = (
    (
        0.0,  # added
        -0.466,  # additive
        0.2447,  # additive_gap
        0.0439,  # bug
        -0.0047,  # char_agree
        -0.19,  # char_best
        -0.1922,  # char_item
        -0.2303,  # char_out
        -0.4517,  # char_out_vs_in
        0.0032,  # cjk
        -0.041,  # coverage
        0.1534,  # cross
        0.3582,  # cue_ask
        0.3348,  # cue_how
        -0.7249,  # cue_new
        -0.4163,  # cue_qmark
        -0.1757,  # cue_report
        -0.2999,  # fired_excluded
        0.0003,  # has_exclusion
        0.0,  # limit
        -0.0343,  # margin
        0.0,  # multi
        -0.1965,  # named_kind
        -0.0357,  # named_title
        -0.0344,  # negated
        0.0287,  # no_item
        -0.4279,  # out_cov
        -0.1599,  # out_distinct
        -0.1893,  # out_share
        -0.2142,  # out_title
        -0.2969,  # out_vs_in
        0.3937,  # product
        0.1486,  # question
        -0.2999,  # rule_excluded
        0.1017,  # rule_excluded_named
        -0.0701,  # rule_extends
        0.1604,  # rule_in
        0.0,  # rule_limit
        -0.3374,  # rule_no_item
        0.5433,  # rule_product
        -0.0979,  # rule_weak
        0.006,  # second
        -0.0063,  # self_service
        0.2769,  # size
        -0.1583,  # strength
        0.0,  # switched
        -0.1059,  # title_cov
        0.0768,  # uncovered
        -0.1749,  # unknown
        0.3481,  # weak
        0.0,  # x_audience
        -0.3664,  # x_beyond
        0.2446,  # x_new
        -0.3209,  # x_period
        0.3701,  # x_quantity
        -0.2106,  # x_unnamed
    ),
    (
        0.0,  # added
        0.466,  # additive
        -0.2447,  # additive_gap
        -0.0439,  # bug
        0.0047,  # char_agree
        0.19,  # char_best
        0.1922,  # char_item
        0.2303,  # char_out
        0.4517,  # char_out_vs_in
        -0.0032,  # cjk
        0.041,  # coverage
        -0.1534,  # cross
        -0.3582,  # cue_ask
        -0.3348,  # cue_how
        0.7249,  # cue_new
        0.4163,  # cue_qmark
        0.1757,  # cue_report
        0.2999,  # fired_excluded
        -0.0003,  # has_exclusion
        0.0,  # limit
        0.0343,  # margin
        0.0,  # multi
        0.1965,  # named_kind
        0.0357,  # named_title
        0.0344,  # negated
        -0.0287,  # no_item
        0.4279,  # out_cov
        0.1599,  # out_distinct
        0.1893,  # out_share
        0.2142,  # out_title
        0.2969,  # out_vs_in
        -0.3937,  # product
        -0.1486,  # question
        0.2999,  # rule_excluded
        -0.1017,  # rule_excluded_named
        0.0701,  # rule_extends
        -0.1604,  # rule_in
        0.0,  # rule_limit
        0.3374,  # rule_no_item
        -0.5433,  # rule_product
        0.0979,  # rule_weak
        -0.006,  # second
        0.0063,  # self_service
        -0.2769,  # size
        0.1583,  # strength
        0.0,  # switched
        0.1059,  # title_cov
        -0.0768,  # uncovered
        0.1749,  # unknown
        -0.3481,  # weak
        0.0,  # x_audience
        0.3664,  # x_beyond
        -0.2446,  # x_new
        0.3209,  # x_period
        -0.3701,  # x_quantity
        0.2106,  # x_unnamed
    ),
)
EXCLUSION_BIAS = (
    0.2881,
    -0.2881,
)

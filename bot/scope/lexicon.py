"""General bilingual vocabulary of software projects, used as a bridge between wordings and languages.

Each concept lists English phrases (matched on stemmed words) and Chinese phrases (matched as substrings).
A request and a scope item that name the same concept in different words or languages meet on it.
Concepts in a *category* (channel, platform, language, environment, currency, audience…) are also how an
extension is recognised: a request that names a channel the matched item does not name asks for more.

This is general vocabulary about software work, not a list made for any one project.
"""

from __future__ import annotations

# category -> {concept: (english phrases, chinese phrases)}
# Category "" holds plain synonyms: they help matching but never mark an extension.
CONCEPTS: dict[str, dict[str, tuple[str, str]]] = {
    "channel": {
        "email": ("email|e-mail|mail|emailed|e-mailed|mailing|newsletter", "邮件|邮箱|电子邮件"),
        "sms": ("sms|text message|text messages|texts|text them|texted|text me|text us", "短信"),
        "push": ("push|push notification", "推送|消息推送"),
        "whatsapp": ("whatsapp", ""),
        "dingtalk": ("dingtalk", "钉钉"),
        "feishu": ("feishu|lark", "飞书"),
        "wecom": ("wecom|enterprise wechat|wechat work", "企业微信"),
        "telegram": ("telegram|line app|signal app", ""),
        "wechat_msg": (
            "wechat message|wechat notification|wechat template message",
            "微信消息|公众号消息|模板消息|订阅消息",
        ),
        "phone_call": (
            "phone call|call them|voice call|hotline|by phone|over the phone|on the phone|phone them",
            "电话|打电话|来电",
        ),
        "slack": ("slack", ""),
        "teams_chat": ("teams channel|microsoft teams", ""),
        "letter": ("printed letter|post letter", "纸质信"),
        "live_chat": ("live chat|chat widget|chatbot|chat bot", "在线客服|客服聊天|聊天机器人"),
    },
    "platform": {
        "native_app": (
            "app|apps|native app|mobile app|iphone app|android app|ios app|application store|app store",
            "app|应用|手机端|移动端|客户端",
        ),
        # A web app runs in the browser: "app" inside it is not a store app ("DonorLink is a web app only").
        "web_app": (
            "web app|web apps|web application|web applications|webapp|web-based app|browser-based app|progressive web app",
            "网页版|网页端|web端",
        ),
        "ios": ("ios|iphone|iphone app|ios app|iphone apps", "苹果|ios"),
        "android": ("android|android app|android apps", "安卓"),
        "tablet": ("tablet|ipad|tablets", "平板|ipad"),
        "phone_web": (
            "phone browser|mobile browser|on my phone|on our phones|phone-friendly|mobile layout|mobile-friendly|responsive|smartphone|smartphones|mobile phone|mobile phones|phone|phones|samsung|huawei|xiaomi|oneplus",
            "手机网页|手机浏览器|h5|移动网页|三星手机|华为手机|小米手机",
        ),
        "desktop_app": ("desktop app|windows app|mac app", "桌面端|桌面应用|电脑客户端"),
        "miniprogram": ("mini-program|mini program|miniprogram|mini app", "小程序"),
        "alipay": ("alipay", "支付宝"),
        "douyin": ("douyin|tiktok", "抖音"),
        "wechat": ("wechat|weixin", "微信"),
        "excel_addin": ("excel add-in|add-in|plugin|plug-in|browser extension", "插件"),
        "tv_screen": (
            "tv screen|wall screen|big screen|wallboard|display screen|wall display|kitchen display",
            "大屏|电视|显示屏|电子屏|显示器",
        ),
        "smartwatch": ("smartwatch|apple watch", "手表"),
        "kiosk": ("kiosk", "自助机"),
    },
    "language": {
        "lang_en": ("english", "英文|英语"),
        "lang_de": ("german|deutsch", "德语|德文"),
        "lang_fr": ("french", "法语|法文"),
        "lang_es": ("spanish", "西班牙语"),
        "lang_it": ("italian", "意大利语"),
        "lang_zh": ("chinese|mandarin", "中文|汉语|简体|繁体"),
        "lang_ja": ("japanese", "日语|日文"),
        "lang_cy": ("welsh", "威尔士语"),
        "lang_ar": ("arabic", "阿拉伯语"),
        "lang_pt": ("portuguese", "葡萄牙语"),
        "lang_nl": ("dutch", "荷兰语"),
        "lang_pl": ("polish", "波兰语"),
        "translation": (
            "translate|translated|translation|language|languages|localise|localize|multilingual",
            "翻译|多语言|语言版本|语言",
        ),
    },
    "environment": {
        "env_test": (
            "test environment|testing environment|staging|uat environment|sandbox|qa environment",
            "测试环境|预发|沙箱",
        ),
        "env_dev": ("dev environment|development environment", "开发环境"),
        "env_prod": ("production environment|prod environment|live environment", "生产环境|正式环境"),
        "environment": ("environment|environments|instance|instances", "环境"),
    },
    "currency": {
        "usd": ("us dollar|us dollars|usd", "美元"),
        "gbp": ("british pound|british pounds|gbp|sterling", "英镑"),
        "eur": ("eur|euro|euros", "欧元"),
        "cny": ("rmb|cny|yuan", "人民币"),
        "jpy": ("jpy|japanese yen|yen", "日元"),
        "hkd": ("hkd|hong kong dollar|hong kong dollars", "港币|港元"),
        "aud": ("aud|australian dollar|australian dollars", "澳元"),
        "cad": ("cad|canadian dollar|canadian dollars", "加元"),
        "chf": ("chf|swiss franc|swiss francs", "瑞士法郎"),
        "sgd": ("sgd|singapore dollar|singapore dollars", "新加坡元|新币"),
        "other_currency": (
            "krona|kronor|krone|kroner|zloty|rupee|rupees|baht|ringgit|peso|pesos|dirham|nzd|sek|nok|dkk|pln|inr|krw|thb|myr|mxn|aed",
            "韩元|泰铢|卢布|新台币|澳门元",
        ),
        "currency": ("currency|currencies|multi-currency", "币种|货币|多币种"),
    },
    "timing": {
        "realtime": (
            "real-time|real time|realtime|live|every minute|streaming|instant|instantly|intraday|as they happen|as it happens|up to the minute|up-to-the-minute",
            "实时|即时|秒级",
        ),
        "weekly": ("weekly|every week|each week|per week|by week|week by week", "每周|周报|按周|周度"),
        "monthly": ("monthly|every month|each month|per month|by month|month by month", "每月|月度|月报|按月|月份"),
        "daily": (
            "daily|every day|each day|nightly|every night|every morning|by day|per day",
            "每天|每日|每晚|按天|按日|日报",
        ),
        "hourly": ("hourly|every hour|every few hours|by hour|per hour", "每小时|按小时"),
        "quarterly": ("quarterly|every quarter|each quarter|per quarter|by quarter", "每季度|按季度|季度|季报"),
        "yearly": ("yearly|annually|every year|each year|per year|by year", "每年|按年|年度|年报"),
        "support_247": ("24/7|24x7|around the clock|on-call|on call|out of hours", "7x24|全天候|值班"),
    },
    # Ways to pay: an item that names one covers that one ("card through Stripe"); another is more.
    "payment_method": {
        "card": (
            "credit card|credit cards|debit card|debit cards|card payment|card payments|pay by card|by card|bank card|stripe|visa|mastercard",
            "信用卡|银行卡",
        ),
        "paypal": ("PayPal", "paypal"),
        "alipay_pay": ("Alipay", "支付宝"),
        "wechat_pay": ("WeChat Pay|weixin pay", "微信支付|微信付款"),
        "apple_pay": ("Apple Pay", ""),
        "google_pay": ("Google Pay", ""),
        "unionpay": ("UnionPay|union pay", "云闪付|银联"),
        "pay_later": ("Klarna|afterpay|buy now pay later|buy now, pay later", "花呗|先用后付"),
        "cash": ("cash|cash on delivery", "现金|货到付款"),
        "bank_transfer": (
            "bank transfer|wire transfer|direct debit|standing order|sepa",
            "银行转账|转账|对公转账|汇款|银行代扣|代扣",
        ),
    },
    # Business systems a project connects to: naming one the item does not name is another integration.
    "business_system": {
        "sap": ("SAP|sap ecc|s/4hana|s4hana", ""),
        "dynamics": ("Microsoft Dynamics|dynamics|dynamics 365|business central|navision|nav", ""),
        "netsuite": ("NetSuite", ""),
        "kingdee": ("Kingdee|k3|k3 cloud", "金蝶"),
        "yonyou": ("Yonyou|u8|u9|nc cloud", "用友"),
        "quickbooks": ("QuickBooks", ""),
        "xero": ("Xero", ""),
        "sage": ("Sage", ""),
        "odoo": ("Odoo", ""),
    },
    # Other named services of one kind: an item that names one covers that one.
    "crm_system": {
        "salesforce": ("Salesforce", ""),
        "hubspot": ("HubSpot", ""),
        "zoho": ("Zoho", ""),
        "pipedrive": ("Pipedrive", ""),
    },
    "marketplace": {
        "amazon": ("Amazon", "亚马逊"),
        "ebay": ("eBay", ""),
        "etsy": ("Etsy", ""),
        "taobao": ("Taobao|tmall", "淘宝|天猫"),
        "jd": ("JD.com|jingdong", "京东"),
        "pinduoduo": ("Pinduoduo|temu", "拼多多"),
        "meituan": ("Meituan", "美团"),
        "eleme": ("Ele.me|eleme", "饿了么"),
    },
    "carrier": {
        "dhl": ("DHL", ""),
        "ups": ("UPS", ""),
        "fedex": ("FedEx", ""),
        "royal_mail": ("Royal Mail", ""),
        "dpd": ("DPD", ""),
        "sf_express": ("SF Express|shunfeng", "顺丰"),
        "zto": ("ZTO", "中通|圆通|韵达|申通"),
        "dada": ("Dada", "达达"),
    },
    "map_provider": {
        "google_maps": ("Google Maps", "谷歌地图"),
        "apple_maps": ("Apple Maps", ""),
        "amap": ("Amap|gaode", "高德"),
        "baidu_maps": ("Baidu Maps", "百度地图"),
        "tencent_maps": ("Tencent Maps", "腾讯地图"),
    },
    "cloud": {
        "aws": ("AWS|amazon web services", ""),
        "azure": ("Microsoft Azure|azure cloud", ""),
        "gcp": ("Google Cloud|gcp", ""),
        "aliyun": ("Alibaba Cloud|aliyun", "阿里云"),
        "tencent_cloud": ("Tencent Cloud", "腾讯云"),
        "huawei_cloud": ("Huawei Cloud", "华为云"),
    },
    "": {
        # accounts and access
        "login": ("login|log in|sign in|signin|sign-in|logon|log on|sign on", "登录|登陆|登入"),
        "signup": ("sign up|signup|register|registration|join online|become a member|new member", "注册|入会"),
        "password": ("password|passwords", "密码"),
        "sso": (
            "single sign-on|sso|saml|azure ad|active directory|okta|entra|work account|microsoft work account|microsoft account|microsoft login|microsoft sign-in|office 365|microsoft 365|google workspace account",
            "单点登录|统一认证|域账号",
        ),
        "account": ("account|accounts|profile", "账号|账户|帐号|帐户"),
        "user": ("user|users|colleague|colleagues|member|members", "用户|成员"),
        "role": ("role|roles|permission|permissions|access right|access rights|read-only|read only", "角色|权限|只读"),
        "admin": (
            "admin|administrator|back office|back-office|backend|back end|dashboard admin",
            "后台|管理后台|管理员",
        ),
        # commerce
        "invoice": ("invoice|invoices|credit note|fapiao|vat receipt", "发票|开票"),
        "bill": ("bill|bills|billing|statement of account", "账单"),
        "payment": (
            "payment|payments|pay|paying|paid|credit card|card payment|paypal",
            "支付|付款|付钱|付费|收款|买单|缴费|交费|交钱|收钱",
        ),
        "payment_method": (
            "credit card|debit card|card payment|paypal|alipay|apple pay|google pay|stripe|payment provider|payment providers|wechat pay|klarna",
            "信用卡|银行卡|支付宝|微信支付|云闪付|支付方式",
        ),
        "refund": ("refund|refunds|money back|reimburse|refunded", "退款|退钱|钱退|退回|退还"),
        "deposit": ("deposit|down payment|prepayment|pre-payment", "定金|订金|押金|预付"),
        "instalment": ("instalment|instalments|installment|installments|pay later|payment plan", "分期"),
        "subscription": (
            "subscription|subscriptions|subscriber|subscribers|membership|memberships|recurring",
            "订阅|会员制|包月|订户|订阅用户",
        ),
        "order": ("order|orders|ordering|purchase order|po", "订单|下单|采购单"),
        "cart": ("cart|basket|shopping cart", "购物车"),
        "basket_size": (
            "basket size|average basket|average order value|aov|average spend|spend per visit|spend per trip|spend per shopping trip|average ticket|average transaction value",
            "客单价|平均一单|单均|笔单价|平均消费|人均消费",
        ),
        "slow_mover": (
            "slow mover|slow movers|slow-moving|slow moving|dead stock|unsold|haven't sold|hasn't sold|not sold|didn't sell",
            "滞销|动销慢|卖不动",
        ),
        "consumer": (
            "consumer|consumers|b2c|end user|end users|end customer|end customers|private customer|private customers|guest checkout|general public|members of the public|ordinary people",
            "个人消费者|散客|c端|普通消费者",
        ),
        "impersonate": (
            "impersonate|impersonation|log in as|login as|act as the user|see what they see|see exactly what|see what the customer sees|see what a customer sees|see what customers see",
            "模拟登录|代登录|以客户身份",
        ),
        "time_slot": (
            "time slot|time slots|delivery slot|delivery slots|delivery window|delivery time|morning or afternoon",
            "时段|配送时间|送货时间|上午送|下午送|几点送",
        ),
        "checkout": ("checkout|check out", "结算|结账"),
        "price": (
            "price|prices|pricing|discount|discounts|mark down|marked down|price cut|price cuts",
            "价格|定价|价钱|折扣",
        ),
        "coupon": ("coupon|coupons|voucher|vouchers|promo code|promo|promos|promotion", "优惠券|优惠|券|满减|促销"),
        "points": ("loyalty points|reward points|points|loyalty", "积分"),
        "product": (
            "product|products|item|items|goods|sku|skus|article|product line|product lines|range of products",
            "商品|产品|货品|物品",
        ),
        "catalog": ("catalog|catalogue|product list", "目录|商品列表"),
        "stock": ("stock|inventory|stock level|stock levels|on hand", "库存|存货|备货"),
        "supplier": ("supplier|suppliers|vendor|vendors", "供应商|厂商"),
        "delivery": (
            "delivery|deliveries|deliver|delivered|shipping|shipment|shipped|dispatch|courier|couriers|courier service",
            "配送|送货|发货|送达|物流|快递",
        ),
        "pickup": ("pickup|pick up|pick-up|collect in store|click and collect", "自提"),
        "return": (
            "return|returns|rma|send back|complaint|complaints|arrives broken|arrived broken|arrives damaged|arrived damaged|damaged|defective",
            "退货|售后|投诉|破损|坏了的货",
        ),
        "customer": ("customer|customers|client|clients|buyer|buyers", "客户|顾客|买家"),
        "sales": (
            "sales|revenue|turnover|takings|income|sell|sells|selling|sold|resell|reselling",
            "销售|销售额|营业额|收入|卖|出售|售卖",
        ),
        "margin": ("margin|profit|gross margin", "毛利|利润"),
        "budget": ("budget|budgets|p&l|profit and loss|balance sheet", "预算|损益|资产负债"),
        "erp": (
            "erp|sap|dynamics|nav|netsuite|kingdee|yonyou|quickbooks|accounting system|finance system|financial system",
            "erp|金蝶|用友|财务系统|财务软件|记账",
        ),
        "store": ("store|stores|shop|shops|branch|branches|outlet", "门店|店铺|分店|店"),
        "pos": (
            "pos|cash register|point of sale|tills|the till|till data|till system|till receipt|till receipts|epos",
            "收银|收银机|pos机",
        ),
        "webshop": (
            "webshop|web shop|online shop|online store|shopify|e-commerce|ecommerce|online order|online orders|online sales",
            "网店|商城|电商",
        ),
        "live_selling": ("live selling|livestream|live stream|live streaming|livestreaming", "直播"),
        # people and organisation
        "employee_leave": (
            "leave request|annual leave|holiday request|vacation|time off|sick leave",
            "请假|休假|年假|病假",
        ),
        "payroll": ("payroll|salary|salaries|payslip|wage|wages", "工资|薪资|薪酬|工资条"),
        "attendance": ("attendance|check-in|clock in|clock-in|timesheet|timesheets", "考勤|打卡|签到|出勤"),
        "recruiting": (
            "recruiting|recruitment|hiring|job posting|applicant|applicants|candidate|candidates|interview|interviews|cv|cvs|resume|vacancy|vacancies|job opening|job openings",
            "招聘|应聘|候选人|简历|面试|岗位空缺|职位",
        ),
        "department": ("department|departments|team structure|org chart", "部门|组织架构"),
        "expense": ("expense|expenses|reimbursement|reimburse|expense claim|mileage", "报销|费用|开支"),
        "tax": ("tax|taxes|vat|sales tax", "税|增值税|税率|税务"),
        "ledger": ("ledger|bookkeeping|general ledger|journal entry", "账务|总账|凭证|记账"),
        # health
        "patient": ("patient|patients", "患者|病人|病患"),
        "doctor": (
            "doctor|doctors|physician|physicians|dentist|dentists|practitioner|practitioners|therapist|therapists|physio|physios|physiotherapist|physiotherapists|clinician|clinicians|nurse|nurses",
            "医生|大夫|医师|牙医",
        ),
        "medical_record": (
            "medical record|medical records|clinical notes|health record|emr|ehr",
            "病历|病例|电子病历|影像",
        ),
        "prescription": ("prescription|prescriptions|medication|medicine", "处方|药品|用药"),
        "insurance": (
            "insurance|insurer|insurers|claim|claims|insurance policy",
            "保险|医保|理赔|意外险|险种|保单|投保",
        ),
        "consultation": ("consultation|consultations|telehealth|telemedicine", "问诊|咨询|会诊"),
        # learning
        "course": ("course|courses|class|classes|lesson|lessons|module|modules|curriculum", "课程|课|课时|章节"),
        "student": ("student|students|learner|learners|pupil|pupils|trainee", "学生|学员|学习者"),
        "teacher": ("teacher|teachers|tutor|tutors|instructor|instructors|trainer|trainers", "老师|教师|讲师|教练"),
        "exam": ("exam|exams|quiz|quizzes|test score|assessment|assessments", "考试|测验|测试题|考核"),
        "certificate": ("certificate|certificates|certification|diploma", "证书|结业证"),
        "homework": ("homework|assignment|assignments", "作业"),
        # logistics and field work
        "warehouse": ("warehouse|warehouses|depot|depots", "仓库|仓储"),
        "vehicle": ("vehicle|vehicles|truck|trucks|van|vans|fleet|car|cars", "车辆|卡车|货车|车队"),
        "route": ("route|routes|routing|route planning|navigation", "路线|路径|导航|线路"),
        "maintenance": (
            "maintenance|service interval|repair|repairs|repaired|repairing|servicing",
            "维修|保养|维护|修理|报修|修一下",
        ),
        "device": (
            "device|devices|sensor|sensors|iot|hardware|scanner|scanners|printer|printers",
            "设备|传感器|硬件|扫码枪|打印机",
        ),
        "barcode": ("barcode|barcodes|qr code|qr codes|scan|scanning", "条码|条形码|二维码|扫码"),
        "fuel": ("fuel|petrol|diesel|gas station", "油费|加油|燃油"),
        # sales and marketing
        "lead": ("lead|leads|prospect|prospects|opportunity|opportunities|pipeline deal", "线索|商机|潜在客户"),
        "campaign": ("campaign|campaigns|newsletter|email marketing|marketing", "营销|推广|活动推送|市场活动"),
        "crm": ("crm|salesforce|hubspot|zoho", "crm|客户管理系统"),
        "helpdesk_tool": (
            "zendesk|freshdesk|intercom|jira service|servicenow|customer service tool|customer service tools|ticketing system|helpdesk tool",
            "工单系统|客服系统",
        ),
        "analytics_tool": ("google analytics|adobe analytics|mixpanel|matomo", "百度统计|友盟"),
        "referral": (
            "referral|refer a friend|invite a friend|invite friends|invite your friends|affiliate",
            "推荐好友|邀请好友|拉新|老带新|分销",
        ),
        "presale": ("pre-order|preorder|pre-sale|presale", "预售"),
        "group_buy": ("group buy|group buying|group deal|team purchase", "拼团|团购"),
        "gift_card": ("gift card|gift cards|gift voucher|stored value|wallet balance", "礼品卡|储值卡|余额"),
        "auction": ("auction|auctions|bidding|bid", "拍卖|竞价|竞拍"),
        "membership_tier": (
            "membership tier|membership tiers|membership level|vip|gold member|gold members|silver member|platinum member|loyalty tier",
            "会员等级|vip|等级|金卡|银卡|白金卡|钻石会员",
        ),
        # fees, payouts and money owed
        "fee": (
            "fee|fees|charge|charges|fine|fines|late fee|late fees|late charge|late charges|overdue charge|overdue charges|penalty|penalties|surcharge",
            "罚款|罚金|滞纳金|手续费|服务费",
        ),
        "payout": (
            "payout|payouts|pay out|paid out|send the money|send them the money|transfer the money|into their bank account|to their bank account|bank details|withdrawal",
            "打款|提现|转到银行卡|打到银行卡|发到银行卡|到账",
        ),
        "fraud": ("fraud|fraudulent|suspicious|scam|scams|anti-fraud", "欺诈|骗保|作弊|可疑|风控"),
        # waiting and queues
        "waiting_list": (
            "waiting list|waiting lists|waitlist|wait list|put their names down|put their name down|put my name down|in case someone drops out|drops out|standby",
            "候补|排队等|等位|排号",
        ),
        # reading and media
        "ebook": (
            "ebook|ebooks|e-book|e-books|digital copy|digital copies|digital edition|audiobook|audiobooks|kindle",
            "电子书|有声书|电子版",
        ),
        "digitisation": (
            "digitise|digitize|digitising|digitizing|digitisation|digitization|scan in|scanned copies|scanning the archive",
            "数字化|扫描上网|扫描存档|扫描件",
        ),
        "camera": (
            "cctv|camera|cameras|webcam|surveillance|security camera|live video|live feed|livestream of",
            "监控|摄像头|实时画面|监控画面|直播画面",
        ),
        # cars and claims
        "accident": (
            "accident|accidents|crash|crashed|collision|bumped|bumped into|reversed into|hit my car|hit our car|prang|write-off",
            "事故|撞车|碰撞|追尾|剐蹭|刮擦",
        ),
        "garage": (
            "garage|garages|body shop|body shops|repair shop|repair shops|mechanic|mechanics",
            "修理厂|维修厂|汽修|4s店",
        ),
        "telematics": (
            "telematics|black box|black boxes|dashcam|dash cam|dashcams|driving data|tracker device",
            "行车记录仪|车载盒子|驾驶行为数据",
        ),
        "home_insurance": (
            "home insurance|house insurance|contents insurance|buildings insurance|flood|flooded|burst pipe|burglary|break-in",
            "家财险|房屋保险|漏水|水管爆裂|入室盗窃",
        ),
        "travel_insurance": ("travel insurance|trip cancellation|lost luggage", "旅行保险|旅游险|旅行险"),
        "pet_insurance": ("pet insurance|vet bill|vet bills", "宠物险|宠物保险"),
        "handler": (
            "handler|handlers|caseworker|case worker|case owner|case manager|dealing with it|deal with it|dealing with my|in charge of my",
            "经办人|处理人|负责人|专员",
        ),
        "computer": ("laptop|laptops|computer|computers|pc|pcs|desktop computer|new device", "电脑|笔记本电脑|新设备"),
        # everyday features many projects name
        "shift": ("shift|shifts|roster|rosters|shift pattern|shift patterns", "班次|轮班|倒班"),
        "receipt": ("receipt|receipts", "收据|小票|回执"),
        "renewal": ("renewal|renewals|renew|renewed|renewing", "续费|续期|续约|续借"),
        "import": ("import|imports|imported|importing", "导入"),
        "purchase": ("purchase|purchases|purchasing|buy|buying|bought", "购买"),
        "workflow": ("workflow|workflows|process flow", "流程|工作流"),
        "audio": ("audio|podcast|podcasts|audio file|audio files", "音频|播客"),
        "ticket": ("ticket|tickets|e-ticket|e-tickets", "门票|票务|电子票"),
        "survey": (
            "survey|surveys|questionnaire|questionnaires|poll|polls|vote|votes|voting",
            "问卷|调查|投票|调研",
        ),
        "menu": ("menu|menus", "菜单"),
        "queue": ("queue|queues|queueing|queuing|queue number|ticket number", "排队|叫号|取号"),
        "parcel": ("parcel|parcels|parcel locker|parcel lockers|locker|lockers", "包裹|快递柜|储物柜"),
        "monitoring": ("monitoring|uptime|outage|outages|incident|incidents", "宕机|告警|运维监控"),
        "recording": ("recording|recordings|screen recording|call recording", "录音|录像|录屏"),
        "subtitles": ("subtitles|captions|closed captions", "字幕"),
        "onboarding": ("onboarding|offboarding|new starter|new starters|leaver|leavers", "入职|离职"),
        "overtime": ("overtime", "加班"),
        "seat": ("seat|seats|seating|seat map|seating plan", "座位|选座"),
        "volunteer": ("volunteer|volunteers", "志愿者|义工"),
        "hotel": ("hotel|hotels", "酒店|宾馆"),
        # content and files
        "article": (
            "article|articles|story|stories|blog|blog post|news|news item|announcement|announcements|banner|banners",
            "文章|新闻|公告|资讯|横幅|轮播图",
        ),
        "file": ("file|files|attachment|attachments|upload|uploads|document|documents", "文件|附件|上传|文档"),
        "comment": ("comment|comments|feedback form", "评论|留言"),
        "signature": (
            "e-signature|esignature|digital signature|sign electronically|docusign|signature|signatures|sign the|sign a|sign their|sign documents|signed copy",
            "电子签名|电子签章|签字",
        ),
        "backup": ("backup|backups|restore|disaster recovery", "备份|恢复|容灾"),
        "audit_log": ("audit log|audit trail|activity log|change history", "审计日志|操作日志|操作记录"),
        "two_factor": (
            "two-factor|2fa|mfa|multi-factor|one-time code|otp|verification code",
            "双因素|二次验证|验证码|短信验证",
        ),
        "privacy": ("gdpr|privacy|consent|data protection|personal data", "隐私|个人信息|数据保护"),
        "accessibility": ("accessibility|wcag|screen reader", "无障碍"),
        "performance": ("performance|slow|load time|loading time|speed", "性能|加载慢|卡顿|速度"),
        "dark_mode": ("dark mode|dark theme", "深色模式|暗黑模式|夜间模式"),
        # content and reporting
        "report": ("report|reports|reporting|kpi|kpis|metrics|analytics", "报表|报告|统计|指标"),
        "dashboard": ("dashboard|dashboards", "看板|仪表盘|大屏"),
        "export": ("export|download|excel|csv|spreadsheet|spreadsheets", "导出|下载|excel|表格"),
        "pdf": ("pdf", "pdf"),
        "search": ("search|find|look up|lookup", "搜索|查找|检索|搜"),
        "filter": ("filter|filters|sort", "筛选|过滤|排序"),
        "notification": (
            "notification|notifications|notify|alert|alerts|reminder|reminders|message",
            "通知|提醒|提示|消息|预警",
        ),
        "history": ("history|past|previous|historical|back to", "历史|以前|之前|过去"),
        "status": (
            "status|tracking|track|where is|how far along|what stage",
            "状态|跟踪|追踪|进度|到哪一步|哪一步|到哪了",
        ),
        "photo": ("photo|photos|picture|pictures|image|images", "照片|图片|拍照|相片"),
        "video": ("video|videos", "视频"),
        "map": ("map|maps|location|gps", "地图|位置|定位"),
        "calendar": ("calendar|calendars|rota|timetable", "日历|排班|日程"),
        "reschedule": (
            "reschedule|rescheduling|rebook|rebooking|move an appointment|move their appointment|move my appointment|change the appointment",
            "改约|改期|改时间|调整预约|重新预约",
        ),
        "reception": ("reception|receptionist|receptionists|front desk|front office", "前台|接待处|服务台"),
        "appointment": (
            "appointment|appointments|booking|bookings|book|reservation|reservations|reserve|reserved|reserving",
            "预约|挂号|预订|约时间",
        ),
        "forecast": (
            "forecast|forecasting|predict|prediction|machine learning|ai|artificial intelligence",
            "预测|机器学习|人工智能|ai",
        ),
        "training": (
            "training|train|workshop session|webinar|onboarding session|walkthrough|walk through|knowledge transfer|handover|hand over|show us how",
            "培训|教学|讲解|交接",
        ),
        "documentation": ("documentation|docs|data dictionary|manual|definition", "文档|说明书|手册|数据字典"),
        "design": ("design|layout|look and feel|brand|colours|colors|theme|redesign", "设计|改版|风格|界面|ui"),
        "support": ("support|helpdesk|help desk|service desk|sla", "支持|运维|售后支持"),
        "migration": ("migrate|migration|move over|import old|data migration", "迁移|导入旧"),
        "integration": (
            "integration|integrate|sync|synchronise|synchronize|api|connect|interface|webhook|webhooks",
            "对接|同步|接口|集成",
        ),
        "security": ("security|secure|encryption|row-level security|rls", "安全|加密"),
        "approval": ("approve|approval|approvals|sign off|sign-off", "审核|审批|批准"),
        # everyday words for the same things
        "company": (
            "company|companies|firm|firms|organisation|organisations|organization|organizations|employer|employers",
            "公司|企业|单位|机构",
        ),
        "family": (
            "family|family member|family members|spouse|wife|husband|partner|partners|my kids|my children|household",
            "家人|家属|家庭成员|老婆|老公|妻子|丈夫|爱人|孩子|父母|家里人",
        ),
        "house": (
            "house|houses|flat|flats|apartment|apartments|dwelling|dwellings|home address",
            "房屋|房子|住房|房号|房产|户型",
        ),
        "expiry": (
            "expire|expires|expired|expiring|expiry|expiry date|lapse|lapses|lapsed|run out|runs out|ran out|valid until",
            "过期|到期|失效|有效期",
        ),
        "publish": (
            "publish|published|publishes|publishing|go live|goes live|went live|put online|unpublish",
            "发布|发表|上架|下架",
        ),
        "paper": (
            "paper|paper copy|paper copies|hard copy|hard copies|printed copy|printed copies|print edition",
            "纸质|纸版|纸面|纸本",
        ),
        "deduction": (
            "deduct|deducted|deducts|deduction|deductions|charged twice|taken off my",
            "扣款|扣费|扣钱|扣除|扣次|多扣",
        ),
        "turnaround": ("turnaround|turnaround time|lead time|processing time|how long it takes", "周期|时效|处理时间"),
        "package_deal": ("package|packages|bundle|bundles|multi-pass|punch card|class pack", "套餐|套票|次卡"),
        "record_entry": (
            "record it|log it|write it down|note it down|fill in|fill out|filled in|filled out",
            "登记|录入|填写|填报|记录",
        ),
        "review_rating": (
            "review|reviews|rating|ratings|stars|star rating|rate the|rate their|rate a|rate your|rate our|rate us",
            "评价|评分|打分|点评",
        ),
        "recommend": ("recommend|recommendation|recommendations|suggest", "推荐"),
        "gamification": ("leaderboard|badge|badges|gamification|ranking|rankings", "排行榜|勋章|排名|排行"),
        "chat": (
            "chat|instant messaging|forum|forums|comment|comments|discussion|discussion board",
            "聊天|留言|评论|论坛",
        ),
        "date": ("date|dates|day|days", "日期|时间|天"),
        "year": ("year|years|annual", "年"),
        "week": ("week|weeks", "周|星期"),
        "month": ("month|months", "月"),
        "region": ("region|regions|area|city|cities|district", "区域|地区|城市|片区"),
        "manager": ("manager|managers|supervisor", "经理|主管|店长"),
        "staff": ("staff|employee|employees|team members|clerk|clerks", "员工|店员|职员|工作人员"),
        "driver": ("driver|drivers|courier|couriers|rider|riders|delivery person", "司机|骑手|配送员|快递员"),
        "phone_number": ("phone number|mobile number|cell number", "手机号|电话号码"),
        "contract": ("contract|contracts", "合同|协议"),
        "copywriting": (
            "copywriting|photography|product photos|content writing|marketing campaign",
            "文案|拍摄|运营|策划",
        ),
        # everyday software actions
        "cancel": (
            "cancel|cancels|cancelled|canceled|cancelling|canceling|cancellation|cancellations|unsubscribe|opt out|terminate|termination",
            "取消|撤销|退订",
        ),
        "form_field": ("field|fields|form field|custom field|input field", "字段|输入框|填写项"),
        "bulk_import": (
            "bulk import|bulk upload|mass import|import from excel|import a spreadsheet|import the spreadsheet",
            "批量导入|批量上传|excel导入",
        ),
        "printing": ("print|prints|printing|printout|print out", "打印"),
        "wishlist": ("wishlist|wish list|favourites|favorites|save for later|bookmark|bookmarks", "收藏|心愿单"),
        "address": ("address|addresses|address book|postcode|zip code", "地址|收货地址|邮编"),
        "tracking_number": ("tracking number|tracking link|waybill|consignment number", "快递单号|运单号|物流单号"),
        # manufacturing and field service
        "work_order": ("work order|work orders|job card|job cards|job sheet|service ticket", "工单|派工单|维修单"),
        "technician": (
            "technician|technicians|engineer on site|field engineer|field staff|installer",
            "技术员|师傅|维修工|安装工",
        ),
        "production": (
            "production|production line|production order|shop floor|assembly line",
            "生产线|产线|排产|产量|生产计划|生产订单",
        ),
        "downtime": ("downtime|machine stop|machine stops|oee", "停机|故障停机|设备故障|稼动率"),
        "quality_check": (
            "quality check|quality checks|quality inspection|inspection|inspections|defect rate|qc",
            "质检|检验|巡检|不良率",
        ),
        "spare_part": ("spare part|spare parts|parts list|bill of materials|bom", "备件|零件|配件|物料清单"),
        # hospitality and travel
        "hotel_room": ("hotel room|hotel rooms|room type|room types|room booking|housekeeping", "客房|房型|房间|保洁"),
        "itinerary": (
            "itinerary|itineraries|business trip|business trips|flight|flights|travel booking",
            "行程|机票|航班|出行",
        ),
        "table_booking": ("table booking|table reservation|book a table|reserve a table", "订座|订桌|预订桌位"),
        # money
        "loan": ("loan|loans|credit line|mortgage|lending", "贷款|借款|信贷|按揭"),
        "account_balance": ("balance|balances|outstanding amount|amount owed|unpaid amount", "欠款|未付|应收|未结清"),
        "commission": ("commission|commissions|rebate|rebates|kickback", "佣金|提成|返利|返点"),
        "quote": ("quote|quotes|quotation|quotations|price estimate", "报价|报价单|估价"),
        # property and facilities
        "property_listing": (
            "property listing|property listings|house viewing|property viewing|open house",
            "房源|看房|带看",
        ),
        "rent": (
            "rent|rental|rentals|lease|leases|leasing|tenancy|hire|on hire|off hire|we've hired|hired in",
            "租金|租赁|出租|房租|租约|租用|租来|租一|租个|租辆|租台|租套",
        ),
        "tenant": ("tenant|tenants|resident|residents|homeowner|homeowners|occupant", "租户|住户|业主|居民"),
        "visitor": ("visitor|visitors|visitor pass|guest pass", "访客|来访|访客登记"),
        "access_control": (
            "access control|door access|key card|keycard|access card|door entry|turnstile",
            "门禁|刷卡进门|闸机",
        ),
        # school and membership admin
        "enrolment": (
            "enrolment|enrollment|enrol|enroll|admission|admissions|application form",
            "报名|入学|招生|注册入学",
        ),
        "grade": ("grade|grades|transcript|report card", "成绩|分数|成绩单"),
        "timetable": ("timetable|timetables|class schedule|lesson plan", "课表|课程表"),
        "parent": ("parent|parents|guardian|guardians", "家长|监护人"),
    },
}

# Plain synonyms of everyday words ("firm" / "company", "登记" / "记录"): they help a request meet an item
# that says the same thing in other words, but a request that names one no item has is not thereby asking
# for something specific.
EVERYDAY = frozenset("company family house expiry publish paper deduction turnaround package_deal record_entry".split())

# Concepts that go with each other: an item that names one is also about the other, at less weight
# ("Client companies and users" is where a colleague's new login belongs). Only plain synonyms, never a
# category whose concepts mark an extension.
RELATED: dict[str, tuple[str, ...]] = {
    "user": ("login", "account", "password"),
    "account": ("login", "user", "password", "signup"),
    "login": ("account", "password"),
    "password": ("login", "account"),
    "signup": ("account", "login"),
    "subscription": ("renewal", "expiry", "cancel"),
    "renewal": ("expiry", "subscription"),
    "expiry": ("renewal",),
    "price": ("fee", "quote"),
    "fee": ("price",),
    "invoice": ("bill", "receipt"),
    "bill": ("invoice",),
    "appointment": ("reschedule", "time_slot", "cancel"),
    "time_slot": ("appointment",),
    "printing": ("paper",),
    "paper": ("printing",),
    "article": ("publish",),
    "publish": ("article",),
    "deduction": ("payment", "account_balance"),
    "package_deal": ("deduction",),
    "status": ("turnaround",),
    "family": ("user",),
}

# Words that mark a request as asking for more than what exists.
ADDITIVE_EN = (
    "also",
    "too",
    "as well",
    "another",
    "additional",
    "extra",
    "second",
    "third",
    "more",
    "new",
    "besides",
    "in addition",
    "on top",
    "other than",
    "not just",
    "not only",
    "instead of",
    "expand",
    "extend",
    "beyond",
    "add",
    "build",
    "create",
    "introduce",
    "set up",
)
ADDITIVE_ZH = (
    "再",
    "还要",
    "同时",
    "顺便",
    "另外",
    "新增",
    "额外",
    "多加",
    "增加",
    "加一个",
    "加个",
    "除了",
    "也",
    "扩展",
    "以外",
    "新的",
    "做一个",
    "做个",
    "开发",
    "搞个",
)

# Words that mark a report on something that should already work (a bug or a question).
BUG_EN = (
    "bug",
    "broken",
    "error",
    "fails",
    "failed",
    "failing",
    "crash",
    "wrong",
    "missing",
    "not working",
    "doesn't",
    "does not",
    "isn't",
    "didn't",
    "hasn't",
    "haven't",
    "wasn't",
    "aren't",
    "won't",
    "cant",
    "can not",
    "couldn't",
    "dont",
    "doesnt",
    "isnt",
    "didnt",
    "don't see",
    "can't",
    "cannot",
    "stopped",
    "stuck",
    "blank",
    "never arrives",
    "behind",
    "too high",
    "too low",
    "too small",
    "too big",
    "too large",
    "too long",
    "too short",
    "too many",
    "too few",
    "too faint",
    "too dark",
    "too early",
    "too late",
    "should be",
    "shouldn't",
    "should'nt",
    "supposed to",
    "i thought",
    "where do",
    "where can",
    "how do",
    "how does",
    "is there",
    "still",
    "nothing",
    "gives nothing",
    "gives no",
    "gives an error",
    "cut off",
    "cuts off",
    "slow to",
    "too slow",
    "so slow",
    "very slow",
    "really slow",
    "takes ages",
    "takes forever",
    "overlap",
    "overlaps",
    "overlapping",
    "looks odd",
    "looks weird",
    "looks wrong",
    "looks broken",
    "freezes",
    "hangs",
    "times out",
    "doesn't load",
    "won't load",
    "keeps",
    "rejects",
    "greyed out",
    "grayed out",
    "just spins",
    "keeps spinning",
    "disappeared",
    "vanished",
    "is that normal",
    "is this normal",
    "is it normal",
    "is that right",
    "is this right",
    "is that expected",
    "please fix",
    "fix this",
    "fix it",
    "needs fixing",
    "can you fix",
    "could you fix",
)
BUG_ZH = (
    "bug",
    "报错",
    "错误",
    "失败",
    "不显示",
    "没显示",
    "打不开",
    "进不去",
    "转圈",
    "异常",
    "不对",
    "闪退",
    "没有",
    "没收到",
    "不了",
    "不出",
    "在哪",
    "哪里",
    "怎么",
    "一直",
    "明明",
    "看不到",
    "没更新",
    "显示成",
    "显示为",
    "反馈",
    "正常吗",
    "对不对",
    "是不是有问题",
    # What was agreed and does not happen: "不是说好了…吗", "不是应该…吗", "按理说…".
    "不是说",
    "不是应该",
    "说好的",
    "说好了",
    "按理说",
)

# Questions about how something already works: the answer is about an item, not new work.
QUESTION_EN = (
    "how many",
    "how much",
    "how long",
    "how often",
    "when will",
    "when does",
    "when do",
    "when is",
    "when are",
    "when can i",
    "what's the",
    "what is the",
    "what are the",
    "why is",
    "why was",
    "why were",
    "why did",
    "why does",
    "why do",
    "why has",
    "do i have to",
    "do we have to",
    "do i need to",
    "do we need to",
    "what happens",
    "is it still",
    "are they still",
)
QUESTION_ZH = ("为什么", "为啥", "什么时候", "多少", "多久", "是什么", "会不会", "要不要", "是不是", "还能", "怎么回事")

# Negation cues: a phrase after one of these is what the requester does *not* want.
NEGATION_EN = (
    "don't need",
    "do not need",
    "don't want",
    "do not want",
    "no need for",
    "not need",
    "not want",
    "rather than",
    "we don't need",
    "not asking",
    "not after",
    "not looking for",
    "not about",
)
NEGATION_ZH = ("不要", "不需要", "不用", "无需", "不必", "不是要", "不是想", "并不是", "不要求", "没要求")

# Everyday business nouns: they help find an item but rarely tell one item or exclusion from another.
GENERIC = frozenset(
    "customer user staff manager sales order product store date week month year report region account "
    "admin history status notification export search filter".split()
)

# Names of months and days: when a request names one, it says when, not what; an item that names one
# ("a yearly summary every April") is still matched by it.
CALENDAR_WORDS = frozenset(
    """january february march april may june july august september october november december
    monday tuesday wednesday thursday friday saturday sunday weekend""".split()
)

# Concepts that are people: who a request is for, rarely what it asks for.
PEOPLE = frozenset(
    "customer user staff manager driver patient doctor student teacher supplier consumer technician tenant visitor parent".split()
)

# How something already built looks or behaves: naming one asks for a change to an item, not for new work.
QUALITIES = frozenset(
    "design performance photo phone_number date dark_mode accessibility printing address computer".split()
)

# A concept that implies a broader one ("Spanish" is a language; "Alipay" is a way to pay).
IMPLIES = {
    **{c: "translation" for c in CONCEPTS["language"] if c.startswith("lang_")},
    **{c: "currency" for c in ("usd", "gbp", "eur", "cny", "jpy", "hkd", "aud", "cad", "chf", "sgd", "other_currency")},
    **{c: "environment" for c in ("env_test", "env_dev", "env_prod")},
    **{c: "payment_method" for c in CONCEPTS["payment_method"]},
    **{c: "erp" for c in CONCEPTS["business_system"]},
    "payment_method": "payment",
    # "Every week" is about weeks: a longer phrase must not hide the shorter word inside it ("每周" / "周").
    "weekly": "week",
    "monthly": "month",
    "yearly": "year",
    "ios": "native_app",
    "android": "native_app",
}

# Everyday English words: a request full of them is not thereby asking for something new. An unknown word
# from this list weighs little; an unknown rare word ("punchout", "shrinkage") weighs a lot.
COMMON_EN = frozenset(
    """
    able about above across act actually add after afternoon again against ago agree ahead allow almost alone along
    always amount annoy annoying another answer anybody anymore anyway appear apply arrive ask asking away back bad
    basically become before begin behind believe below best better big bigger bit break bring broad build busy
    button buy call calling came care careful carry case cause certain change changed check choose clear clearly
    click close closed colleague come comes coming common complain confirm confuse correct cost could couple course
    cover create current currently cut daily deal decide definitely describe detail different difficult direct
    directly display does done double down drop due during early easier easy else end enough enter entire even ever
    every everybody everyone exact exactly example expect explain extra fact fail fair fall far fast feel feels
    figure fill final finally find fine finish first fix fixed follow following forget forward full fully further
    future gave general get give given glad go goes going gone good great guess half handle happen happened happens
    happy hard hear heard held help high hold hope hour huge idea immediately important include including inside
    instead join keep kept kind knew know known large last late later least leave left less likely little live long
    longer look lose lost lot love low main mainly major make making many matter mean means meet mention middle new
    might mind minute miss moment more morning most move much must near nearly need never next nice night nobody
    normal normally nothing notice obviously occur often old once open opened original others otherwise outside
    overall page part particular pass past people perhaps person pick place please plus point possible pretty
    previous probably proper properly provide pull put quick quickly quite rather reach read ready real reason
    recent recently remember remove reply request require right run running said same saw say says screen second see
    seem seems send sense sent separate serious set several short shortly should show showing shown simple simply
    since single slow small someone something sometimes soon sorry sort sound speak special spend start started stay
    still stop straight stuck such suddenly suggest suppose sure take taken talk tell thank thing think though
    thought through time today together told too took total touch tried true try trying turn under understand unless
    until update updated upon urgent usual usually various wait want wanted way week well went whatever whenever
    whether while whole wide wish within without wonder work worked worry write wrong yet young customer customers
    user users client clients people staff team colleague colleagues boss everyone compare comparison
    gmbh ltd inc llc plc ag sa bv co corp
    site sites website websites portal system systems platform software tool tools
    accept accepted across actual additionally advance affect afraid age allowed alright also although amazing
    appreciate approach area arrange assume attach attached attempt available avoid aware awful basic behave belong
    beside besides better bottom bring brought bunch calculate calculated certainly chance changes choice clever
    complete completely concern concerned consider constantly contain continue convenient correctly count counted
    couple crazy critical curious dear deliberately depend depending despite differ difference differently disappear
    easily effort either elsewhere entirely equal especially everywhere except expected explain extremely fairly
    familiar feature features fine forever forgot forward frankly fresh friendly front frustrating generally
    genuinely gets getting glad happened hardly harder hear honestly hopefully however imagine improve improved
    improvement instance interested issue issues kindly know largely latest lately least let likely literally lately
    manage maybe meant mess messy method mind mistake mistakes modern month months mostly moving near necessary
    neither never newer nicer nobody none nor note noted noticed obvious odd officially okay ones onto option
    options ordinary otherwise ought overall particularly perfect personally pick plain pleased plenty point prefer
    prepared pretty prevent previously problem problems proper purpose quickly rarely reason reasonable receive
    received recently regular regularly related relevant rely remain replace respect rest result results reverse
    rough round safe saved scroll seen select selected sent seriously showed side significant similar simpler
    slightly smooth solve somehow somewhere sorted specific spot standard stick strange suggestion supposed
    surprised tell tend terrible thanks themselves therefore thing things third tiny tip top totally tried trouble
    truly typical unclear unfortunately unless unusual upset useful usual via visible want wants way weird whenever
    wherever whoever willing worse worst worth wrong yes
    """.split()
)
COMMON_ZH = frozenset(
    """顾客 客户 用户 大家 老板 同事 我们 他们 现在 今天 昨天 明天 时候 一直 总是 感觉 觉得 看看 看到 知道 需要 希望 想要 可以
    能够 一下 一些 这样 那样 怎么 什么 为什么 问题 情况 东西 地方 事情 方便 麻烦 帮忙 谢谢 尽快 马上 已经 还是 或者 而且 但是 因为
    所以 如果 然后 之后 以前 上面 下面 里面 页面 按钮 点击 打开 进入 操作 使用 设置 显示 出现 发现 反馈 反映 提示 处理 解决 支持
    功能 系统 平台 直接 自动 手动 一起 每次 有时 经常 一般 其实 确实 应该 必须 可能 简单 容易""".split()
)

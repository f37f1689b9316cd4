"""Tools for developers: drawing the bot's cards as people see them (`make screenshots`)."""

"""`cockpit serve`: the cockpit in a browser, through textual-serve.

auth.py guards every request (token, cookie, websocket Origin); server.py is
textual-serve's server with that guard, a listening socket bound before the URL is
printed, and an access log that never sees a query string; pollers.py is the one
headless recorder whose live feed every session watches; session.py is the command each
browser session runs (a viewer of that feed); cli.py the subcommand.
"""

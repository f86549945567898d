"""PostgreSQL as the runbook checks it, over psycopg.  source.py is the PostgresSource the
pane polls; conn.py opens connections (the polling and the action one) and words their
errors; queries.py holds the SQL one poll runs; build.py turns a poll's rows into a
PgSnapshot (no I/O); deep.py reads the deep views on demand (slow queries, index usage,
settings, the blocking tree).
"""

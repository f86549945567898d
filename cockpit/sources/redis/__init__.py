"""Redis through redis-py (`redis.asyncio`).  source.py is the RedisSource the pane polls;
client.py connects from a REDIS_URL and words its exceptions; info.py parses INFO and
computes rates; health.py turns a reading into a level and warnings; deep.py reads the
deep views on demand (memory, slow log, clients, a gentle big-keys sample).
"""

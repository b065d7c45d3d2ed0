// The Lua scripts the cluster runs in Redis, each atomic: line leases (claim, renew, release)
// and the REST rate-limit counter. A lease is one string key `lease:<line>` holding JSON
// {user, node, session, since} with a PX expiry of cluster.leaseMs.

/**
 * Claim: KEYS[1] lease; ARGV user, value, ttlMs. Free, or held by the same user (a reconnect
 * through any node, a second tab): taken at once. Held by another user: refused.
 * Returns {1, previous value or ''} or {0, holder's value}.
 */
export const LEASE_CLAIM_SCRIPT = `
local cur = redis.call('GET', KEYS[1])
if cur then
  local ok, o = pcall(cjson.decode, cur)
  if ok and type(o) == 'table' and o.user ~= ARGV[1] then
    return {0, cur}
  end
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return {1, cur or ''}
`;

/**
 * Renew: KEYS[1] lease; ARGV user, value, ttlMs, session. Ours: extended {1}. Gone (expired,
 * released by the other holder, Redis restarted empty): taken again {2}. Held by another session
 * of the same user: left alone {3, value}. Held by another user: lost {0, value}.
 */
export const LEASE_RENEW_SCRIPT = `
local cur = redis.call('GET', KEYS[1])
if cur then
  local ok, o = pcall(cjson.decode, cur)
  if ok and type(o) == 'table' then
    if o.session == ARGV[4] then
      redis.call('PEXPIRE', KEYS[1], ARGV[3])
      return {1, ''}
    end
    if o.user == ARGV[1] then
      return {3, cur}
    end
    return {0, cur}
  end
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return {2, ''}
`;

/** Release: KEYS[1] lease; ARGV session. Deleted only while this session holds it. */
export const LEASE_RELEASE_SCRIPT = `
local cur = redis.call('GET', KEYS[1])
if not cur then return 0 end
local ok, o = pcall(cjson.decode, cur)
if ok and type(o) == 'table' and o.session == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`;

/**
 * The throttler's counter (after @nest-lab/throttler-storage-redis, whose peer range stops
 * before Nest 12): KEYS hits, blocked; ARGV ttlMs, limit, blockMs.
 * Returns {totalHits, msToExpire, blocked 0/1, msToBlockExpire}.
 */
export const THROTTLE_SCRIPT = `
local ttl = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local blockMs = tonumber(ARGV[3])
local hits = redis.call('INCR', KEYS[1])
local toExpire = redis.call('PTTL', KEYS[1])
if toExpire <= 0 then
  redis.call('PEXPIRE', KEYS[1], ttl)
  toExpire = ttl
end
local blocked = redis.call('GET', KEYS[2])
local toBlockExpire = 0
if blocked then
  toBlockExpire = redis.call('PTTL', KEYS[2])
elseif hits > limit then
  redis.call('SET', KEYS[2], 1, 'PX', blockMs)
  blocked = '1'
  toBlockExpire = blockMs
end
if blocked and toBlockExpire <= 0 then
  redis.call('DEL', KEYS[2])
  redis.call('SET', KEYS[1], 1, 'PX', ttl)
  hits = 1
  toExpire = ttl
  blocked = false
end
return {hits, toExpire, blocked and 1 or 0, toBlockExpire}
`;

/** Redis's own clock in ms (the nodes' clocks may differ). */
const NOW_MS = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/**
 * Node heartbeat: KEYS[1] the live-node set (score = expiry, ms); ARGV node, ttlMs. Also drops
 * the nodes whose heartbeat expired. Returns Redis's time.
 */
export const NODE_BEAT_SCRIPT = `
${NOW_MS}
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return now
`;

/**
 * Who acts on a line: KEYS lease, live-node set; ARGV node. The lease holder's node; no lease:
 * the lowest live node id (string order). Returns 1 when that is ARGV[1].
 */
export const MAY_ACT_SCRIPT = `
local cur = redis.call('GET', KEYS[1])
if cur then
  local ok, o = pcall(cjson.decode, cur)
  if ok and type(o) == 'table' then
    if o.node == ARGV[1] then return 1 end
    return 0
  end
end
${NOW_MS}
local live = redis.call('ZRANGEBYSCORE', KEYS[2], now, '+inf')
local lowest = nil
for _, n in ipairs(live) do
  if lowest == nil or n < lowest then lowest = n end
end
if lowest == ARGV[1] then return 1 end
return 0
`;

/**
 * Agent state of a line: KEYS[1] the hash line -> JSON; ARGV line, JSON ('' removes), channel,
 * message. Written and announced to the other nodes in one step.
 */
export const AGENT_SET_SCRIPT = `
if ARGV[2] == '' then
  redis.call('HDEL', KEYS[1], ARGV[1])
else
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
end
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1
`;

-- tools/fleet-prosody-store.lua - writes a fleet into a Prosody data directory
-- with Prosody's own libraries (util.datamanager, util.sasl.scram, util.uuid),
-- exactly as mod_auth_internal_hashed and mod_roster would store it.
-- Used by tools/fleet; not meant to be run by hand.
--
--   lua5.4 tools/fleet-prosody-store.lua DATA_DIR HOST ITERATIONS < SPEC
--
-- SPEC, one command per line (fields separated by single spaces):
--   account USER PASSWORD        create the account, or re-key it
--   link OPERATOR DEVICE         mutual presence subscription: each is in the
--                                other's roster with subscription "both"
--                                (groups "xiot-devices" / "xiot-operators")
--
-- Rosters are read, merged and written once per user at the end (existing
-- entries are kept). The server must not be running: Prosody caches rosters
-- (rostermanager's roster_cache) and would not see, or would overwrite, the
-- files; tools/fleet stops and restarts it around this.
-- Prints "accounts N rosters M" and exits 0; on error a message on stderr, exit 1.

package.path = "/usr/lib/prosody/?.lua;" .. package.path
package.cpath = "/usr/lib/prosody/?.so;" .. package.cpath

-- util.datamanager logs through util.logger; a bare logger sink is enough.
local logger = require "util.logger"
logger.add_level_sink("error", function(name, level, message, ...)
  io.stderr:write(name, " ", level, ": ", string.format(message, ...), "\n")
end)

local datamanager = require "util.datamanager"
local scram = require "util.sasl.scram"
local uuid = require "util.uuid"

local data_dir, host, iterations = arg[1], arg[2], tonumber(arg[3])
if not data_dir or not host or not iterations then
  io.stderr:write("usage: fleet-prosody-store.lua DATA_DIR HOST ITERATIONS < SPEC\n")
  os.exit(1)
end
datamanager.set_data_path(data_dir)

local function fail(msg)
  io.stderr:write("fleet-prosody-store: ", msg, "\n")
  os.exit(1)
end

-- As mod_auth_internal_hashed's create_user(): a fresh salt per account.
local get_auth_db = scram.getAuthenticationDatabaseSHA1
local accounts = 0
local function store_account(user, password)
  local salt = uuid.generate()
  local ok, stored_key, server_key = get_auth_db(password, salt, iterations)
  if not ok then fail("cannot hash the password of " .. user) end
  local hex = function(s) return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end
  local stored, err = datamanager.store(user, host, "accounts", {
    stored_key = hex(stored_key), server_key = hex(server_key),
    salt = salt, iteration_count = iterations,
  })
  if not stored then fail("cannot store the account " .. user .. ": " .. tostring(err)) end
  accounts = accounts + 1
end

-- user -> roster table (loaded lazily, merged, stored once at the end).
local rosters, order = {}, {}
local function roster_of(user)
  local r = rosters[user]
  if r then return r end
  local data, err = datamanager.load(user, host, "roster")
  if data == nil and err then fail("cannot read the roster of " .. user .. ": " .. tostring(err)) end
  r = data or {}
  -- The metadata entry rostermanager keeps at [false].
  r[false] = r[false] or {}
  r[false].pending = r[false].pending or {}
  rosters[user] = r
  order[#order + 1] = user
  return r
end

local function add_item(owner, contact, name, group)
  local r = roster_of(owner)
  local jid = contact .. "@" .. host
  local item = r[jid] or { groups = {} }
  item.subscription = "both"
  item.ask = nil
  item.name = item.name or name
  item.groups = item.groups or {}
  item.groups[group] = true
  r[jid] = item
  r[false].pending[jid] = nil
end

for line in io.lines() do
  local cmd, a, b = line:match("^(%S+) (%S+) (%S+)$")
  if cmd == "account" then
    store_account(a, b)
  elseif cmd == "link" then
    add_item(a, b, b, "xiot-devices")
    add_item(b, a, a, "xiot-operators")
  elseif line ~= "" then
    fail("bad spec line: " .. line)
  end
end

for _, user in ipairs(order) do
  local r = rosters[user]
  -- A new version so clients with a cached roster (XEP-0237) refetch it.
  r[false].version = (tonumber(r[false].version) or 0) + 1
  local ok, err = datamanager.store(user, host, "roster", r)
  if not ok then fail("cannot store the roster of " .. user .. ": " .. tostring(err)) end
end
print(string.format("accounts %d rosters %d", accounts, #order))

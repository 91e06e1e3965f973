-- mod_auth_xiot_ccert: installed by tools/devserver (start --client-ca) into
-- DIR/modules. One host offers both SCRAM (the accounts' passwords, through
-- mod_auth_internal_hashed) and SASL EXTERNAL with a client certificate
-- (through prosody-modules' mod_auth_ccert: chain verified against c2s_ssl's
-- cafile, validity checked, the JID taken from the certificate's
-- id-on-xmppAddr). Prosody 0.12 allows one auth provider per host, so this
-- provider is internal_hashed with mod_auth_ccert's "external" profile
-- added.
--
-- Revocation: LuaSec has no CRL support, so Prosody cannot check one. An
-- EXTERNAL login here also needs the account to exist: deleting the account
-- (prosodyctl deluser) revokes the device whatever its certificate says.
module:depends("auth_internal_hashed");
module:depends("auth_ccert");

local new_sasl = require "util.sasl".new;

local function provider_named(name)
	for _, p in ipairs(module:get_host_items("auth-provider")) do
		if p.name == name then return p; end
	end
end

local hashed = assert(provider_named("internal_hashed"), "mod_auth_internal_hashed did not load");
local ccert = assert(provider_named("ccert"), "mod_auth_ccert did not load");

-- A copy, not a metatable: usermanager sets its own metatable on the provider.
local provider = {};
for k, v in pairs(hashed) do provider[k] = v; end
provider.name = "xiot_ccert";

function provider.get_sasl_handler(session)
	local profile = {};
	for k, v in pairs(hashed.get_sasl_handler(session).profile) do
		if k ~= "mechanisms" then profile[k] = v; end
	end
	local external = ccert.get_sasl_handler(session).profile.external;
	if external then
		profile.external = function (authz)
			local username, state = external(authz);
			if state == "expired" then
				-- Prosody 0.12's util.sasl.external answers "expired" with the
				-- status string "false", which mod_saslauth turns into no
				-- <failure/> at all; a plain not-authorized is what clients expect.
				(session.log or module._log)("warn", "Client certificate outside its validity (expired or not yet valid)");
				return nil, nil;
			end
			if username and not hashed.user_exists(username) then
				(session.log or module._log)("warn", "Client certificate for %s@%s: no such account (revoked)",
					tostring(username), module.host);
				return nil, false;
			end
			if username then
				(session.log or module._log)("info", "Client certificate login as %s@%s", username, module.host);
			end
			return username, state;
		end
	end
	return new_sasl(module.host, profile);
end

module:provides("auth", provider);

-- A display prefix names one key: `keys revoke th_XXXXXXXX` must never reach two keys
-- (in two tenants). Collisions (48 random bits) are retried at creation.
CREATE UNIQUE INDEX api_keys_prefix ON api_keys (prefix);

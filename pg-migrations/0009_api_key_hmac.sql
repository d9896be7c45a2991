-- API keys are hashed with HMAC-SHA256 under a server secret (src/tenancy/keys.ts). This
-- migration cannot compute an HMAC (it has no secret), so existing rows are marked as plain
-- SHA-256 and the engine rehashes each on its first successful use. New rows name their
-- algorithm explicitly (no default), so nothing can be written under the wrong one.
ALTER TABLE api_keys ADD COLUMN hash_alg text NOT NULL DEFAULT 'sha256' CHECK (hash_alg IN ('sha256', 'hmac-sha256'));
ALTER TABLE api_keys ALTER COLUMN hash_alg DROP DEFAULT;

-- Secrets the engine generates once and every process shares (server mode without
-- KEY_HASH_SECRET keeps the key-hash secret here; see README "API keys").
CREATE TABLE engine_secrets (
    name       text PRIMARY KEY,
    value      text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

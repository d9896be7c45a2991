-- List prices per model, in USD per million tokens, with the time they were in effect
-- ([effective_from, effective_to), open-ended when effective_to is null). model_pattern is an
-- exact model name or a glob with `*`; the most specific match wins. tenant_id null = list
-- price for everyone; a tenant's own row (negotiated price) wins over it.
CREATE TABLE model_prices (
    id                  bigserial PRIMARY KEY,
    tenant_id           uuid REFERENCES tenants (id) ON DELETE CASCADE,
    model_pattern       text NOT NULL CHECK (length(model_pattern) BETWEEN 1 AND 200),
    provider            text NOT NULL,
    input_usd_per_mtok  numeric(20, 9) NOT NULL CHECK (input_usd_per_mtok >= 0),
    output_usd_per_mtok numeric(20, 9) NOT NULL CHECK (output_usd_per_mtok >= 0),
    effective_from      timestamptz NOT NULL DEFAULT '2000-01-01T00:00:00Z',
    effective_to        timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    CHECK (effective_to IS NULL OR effective_to > effective_from)
);
CREATE INDEX model_prices_pattern ON model_prices (model_pattern);

-- Public list prices (standard tier, USD per 1M tokens) as published by the providers.
INSERT INTO model_prices (model_pattern, provider, input_usd_per_mtok, output_usd_per_mtok, effective_from, effective_to) VALUES
    ('gpt-4o',              'openai',    2.50,  10.00, '2024-10-01T00:00:00Z', NULL),
    ('gpt-4o-2024-*',       'openai',    2.50,  10.00, '2024-10-01T00:00:00Z', NULL),
    ('gpt-4o-mini*',        'openai',    0.15,   0.60, '2024-07-18T00:00:00Z', NULL),
    ('gpt-4.1',             'openai',    2.00,   8.00, '2025-04-14T00:00:00Z', NULL),
    ('gpt-4.1-mini*',       'openai',    0.40,   1.60, '2025-04-14T00:00:00Z', NULL),
    ('gpt-4.1-nano*',       'openai',    0.10,   0.40, '2025-04-14T00:00:00Z', NULL),
    ('o3',                  'openai',   10.00,  40.00, '2025-04-16T00:00:00Z', '2025-06-10T00:00:00Z'),
    ('o3',                  'openai',    2.00,   8.00, '2025-06-10T00:00:00Z', NULL),
    ('claude-sonnet-4*',    'anthropic', 3.00,  15.00, '2025-05-22T00:00:00Z', NULL),
    ('claude-opus-4*',      'anthropic',15.00,  75.00, '2025-05-22T00:00:00Z', NULL),
    ('claude-3-5-haiku*',   'anthropic', 0.80,   4.00, '2024-11-04T00:00:00Z', NULL),
    ('gemini-2.5-pro*',     'google',    1.25,  10.00, '2025-06-17T00:00:00Z', NULL),
    ('gemini-2.5-flash*',   'google',    0.30,   2.50, '2025-06-17T00:00:00Z', NULL),
    ('mistral-large*',      'mistral',   2.00,   6.00, '2024-11-18T00:00:00Z', NULL);

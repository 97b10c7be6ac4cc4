-- The replaced design's bookkeeping tables, cut down to what the sync touches
-- (shared/design/crm-dinamize-analysis.md §2, anexo18 §1.3). run.js drops and recreates them on
-- every run. Left out: crm_sync_queue and crm_auth_tokens (the queue lives in BullMQ/Redis and the
-- token in the Redis cache; the design only falls back to crm_auth_tokens on a cache miss).
DROP TABLE IF EXISTS crm_sync_logs;
DROP TABLE IF EXISTS crm_lead_sync;
DROP TABLE IF EXISTS crm_leads;

CREATE TABLE crm_leads (
    dwu_id     serial PRIMARY KEY,
    dwu_name   text,
    dwu_email  text,
    dwu_phone  text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_crm_leads_email ON crm_leads (dwu_email);

-- One row per (lead, Dinamize list): the contact code Dinamize gave the lead there.
CREATE TABLE crm_lead_sync (
    dwu_id                  serial PRIMARY KEY,
    dwu_lead_id             integer NOT NULL REFERENCES crm_leads (dwu_id),
    dwu_dinamize_contact_id text,
    dwu_list_id             text NOT NULL,
    dwu_sync_status         text NOT NULL DEFAULT 'pending',  -- pending | synced | failed
    last_sync               timestamptz,
    UNIQUE (dwu_lead_id, dwu_list_id)
);

-- One row per attempt, success or error.
CREATE TABLE crm_sync_logs (
    id          bigserial PRIMARY KEY,
    dwu_lead_id integer,
    action      text NOT NULL,
    status      text NOT NULL,  -- success | error
    response    jsonb,
    error       text,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_crm_sync_logs_lead ON crm_sync_logs (dwu_lead_id);

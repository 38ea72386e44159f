-- The portal's schema. Applied by `dichvucong migrate`; every statement is idempotent.

CREATE TABLE IF NOT EXISTS procedures (
    id              serial PRIMARY KEY,
    code            text UNIQUE NOT NULL,
    name            text NOT NULL,
    field           text NOT NULL,
    level           smallint NOT NULL CHECK (level IN (3, 4)),
    fee_vnd         integer NOT NULL CHECK (fee_vnd >= 0),
    processing_days smallint NOT NULL CHECK (processing_days > 0),
    tier            text NOT NULL,
    search_text     text NOT NULL  -- lower-case name without diacritics, for search
);

-- The per-unit daily counter behind dossier codes: the row lock taken by the
-- upsert serialises issuers across every worker and host sharing the database.
CREATE TABLE IF NOT EXISTS dossier_counters (
    unit_code text NOT NULL,
    day       date NOT NULL,
    last      integer NOT NULL,
    PRIMARY KEY (unit_code, day)
);

CREATE TABLE IF NOT EXISTS dossiers (
    id             bigserial PRIMARY KEY,
    code           text UNIQUE NOT NULL,
    unit_code      text NOT NULL,
    procedure_code text NOT NULL,
    applicant_sub  text NOT NULL,
    applicant_name text NOT NULL,
    channel        smallint NOT NULL CHECK (channel IN (1, 2, 3)),
    status         smallint NOT NULL CHECK (status BETWEEN 1 AND 10),
    level          smallint NOT NULL CHECK (level IN (3, 4)),
    fee_vnd        integer NOT NULL DEFAULT 0,
    form           jsonb NOT NULL DEFAULT '{}',
    submitted_at   timestamptz NOT NULL,
    due_at         timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    origin_unit    text NOT NULL  -- the unit whose host issued the code
);
CREATE INDEX IF NOT EXISTS dossiers_queue ON dossiers (unit_code, status, submitted_at);
CREATE INDEX IF NOT EXISTS dossiers_applicant ON dossiers (applicant_sub);

CREATE TABLE IF NOT EXISTS dossier_events (
    id          bigserial PRIMARY KEY,
    dossier_id  bigint NOT NULL REFERENCES dossiers ON DELETE CASCADE,
    from_status smallint,
    to_status   smallint NOT NULL,
    actor       text NOT NULL,
    note        text NOT NULL DEFAULT '',
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS dossier_events_dossier ON dossier_events (dossier_id, id);

CREATE TABLE IF NOT EXISTS attachments (
    id           uuid PRIMARY KEY,
    dossier_id   bigint NOT NULL REFERENCES dossiers ON DELETE CASCADE,
    filename     text NOT NULL,
    content_type text NOT NULL,
    size_bytes   bigint NOT NULL,
    sha256       text NOT NULL,
    storage_name text NOT NULL,  -- file name inside the upload directory, never a path
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS sessions (
    token_sha256 text PRIMARY KEY,
    sub          text NOT NULL,
    name         text NOT NULL,
    roles        text[] NOT NULL,
    unit_code    text NOT NULL DEFAULT '',
    expires_at   timestamptz NOT NULL
);

-- Logins in flight (between the redirect to the SSO and its callback), shared by workers.
CREATE TABLE IF NOT EXISTS login_attempts (
    state         text PRIMARY KEY,
    nonce         text NOT NULL,
    code_verifier text NOT NULL,
    return_to     text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS payments (
    order_id       text PRIMARY KEY,
    dossier_id     bigint NOT NULL REFERENCES dossiers ON DELETE CASCADE,
    amount_vnd     integer NOT NULL,
    status         text NOT NULL CHECK (status IN ('pending', 'paid', 'failed')),
    transaction_id text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    confirmed_at   timestamptz
);

-- Durable outbox: written in the same transaction as the change it reports.
CREATE TABLE IF NOT EXISTS outbox (
    id              bigserial PRIMARY KEY,
    kind            text NOT NULL CHECK (kind IN ('DongBoHoSoMC', 'CapNhatTienDoHoSoMC')),
    dossier_code    text NOT NULL,
    payload         jsonb NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    last_error      text
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (id) WHERE sent_at IS NULL;

-- Messages received from one-stop hosts, so a retried message is applied once.
CREATE TABLE IF NOT EXISTS sync_inbox (
    message_id  text PRIMARY KEY,
    received_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS security_events (
    id     bigserial PRIMARY KEY,
    kind   text NOT NULL,
    detail jsonb NOT NULL,
    at     timestamptz NOT NULL DEFAULT now()
);

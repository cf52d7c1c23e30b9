-- Light mode: a person who chose it gets no typing or presence events and
-- sends no typing signals (slow or metered links).
ALTER TABLE users ADD COLUMN light INTEGER NOT NULL DEFAULT 0;

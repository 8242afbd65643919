-- Values of a ledger changed by hand or by a damaged disk, one UPDATE a line, run on a ledger
-- that holds one sent delivery (key staging/sale/r1/android). Every command that meets one
-- says "ledger ... is damaged" naming what, exits 1 and prints no traceback (issue 12.17).
-- "sqlite:" marks what only SQLite can hold (PostgreSQL's column types refuse it).
sqlite: UPDATE meta SET serial = 'abc'
sqlite: UPDATE meta SET serial = 1.5
UPDATE meta SET lineage = ''
UPDATE meta SET created_at = 'yesterday'
UPDATE deliveries SET due_at = 'not a time'
UPDATE deliveries SET created_at = '2026-13-45T99:00:00+00:00'
UPDATE deliveries SET request = '{"Title": '
UPDATE call_requests SET request = '[[[['
UPDATE calls SET created_at = ''
sqlite: UPDATE call_requests SET request = X'28B52FFD0058610000'

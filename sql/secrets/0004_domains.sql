-- Column rules as domains. PostgreSQL prepares a table's CHECK constraints
-- again for every statement that writes a row, updates included, even when
-- the update leaves those columns alone: a replace (new payload, same name)
-- paid for five checks, about 70 µs of the database's time. A domain's check
-- runs only where a value of that column is written, so a replace now checks
-- nothing but the one rule that spans two columns. The rules are the same.
CREATE DOMAIN secrets.secret_id AS text CHECK (VALUE ~ '^appsecret_[A-Za-z0-9]{1,64}$');
CREATE DOMAIN secrets.scope_type AS text CHECK (VALUE IN ('account', 'user'));
CREATE DOMAIN secrets.secret_name AS text CHECK (length(VALUE) BETWEEN 1 AND 5000);
CREATE DOMAIN secrets.name_hash AS bytea CHECK (length(VALUE) = 32);

ALTER TABLE secrets.secrets
    DROP CONSTRAINT secrets_id_check,
    DROP CONSTRAINT secrets_scope_type_check,
    DROP CONSTRAINT secrets_name_check,
    DROP CONSTRAINT secrets_name_hash_check,
    ALTER COLUMN id TYPE secrets.secret_id,
    ALTER COLUMN scope_type TYPE secrets.scope_type,
    ALTER COLUMN name TYPE secrets.secret_name,
    ALTER COLUMN name_hash TYPE secrets.name_hash;

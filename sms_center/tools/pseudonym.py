"""The database's pseudonym secret and ``sms_center_pseudonym()``.

The secret is generated once per database, at installation, and kept in a
plain PostgreSQL table that is no Odoo model: no screen, export, RPC call or
data file can read it (only a database backup holds it, as it must, so that
pseudonyms stay the same after a restore). It is stored as the two HMAC
pads of a random key (``lib/pseudonym.py``), from which PostgreSQL's own
``sha256()`` computes HMAC-SHA256 without any extension:

    sms_center_pseudonym('+6281298765432') -> 'psn:3f0c…' (24 hex digits)

The inbound SMS trigger uses the same function to accept exactly one change
of a citizen's number: into its own pseudonym.
"""

from ..lib import pseudonym

SECRET_TABLE = "sms_center_pseudonym_secret"


def ensure_pseudonym_sql(cr):
    """Create the secret (once) and the SQL function (every update)."""
    cr.execute(
        """CREATE TABLE IF NOT EXISTS sms_center_pseudonym_secret (
               id integer PRIMARY KEY CHECK (id = 1),
               inner_pad bytea NOT NULL,
               outer_pad bytea NOT NULL,
               created_at timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC')
           )"""
    )
    inner, outer = pseudonym.hmac_pads(pseudonym.new_key())
    cr.execute(
        """INSERT INTO sms_center_pseudonym_secret (id, inner_pad, outer_pad)
           VALUES (1, %s, %s) ON CONFLICT (id) DO NOTHING""",
        [inner, outer],
    )
    # STRICT: NULL in, NULL out (no number, no pseudonym). Without a secret
    # row the result is NULL too, which the trigger refuses. 'psn:' and 24
    # are lib.pseudonym.PREFIX and HEX_DIGITS (a test compares both sides).
    cr.execute(
        """CREATE OR REPLACE FUNCTION sms_center_pseudonym(value text)
            RETURNS text LANGUAGE sql STABLE STRICT AS $$
              SELECT 'psn:' || substr(encode(sha256(
                       s.outer_pad || sha256(s.inner_pad || convert_to(value, 'UTF8'))
                     ), 'hex'), 1, 24)
                FROM sms_center_pseudonym_secret s WHERE s.id = 1
            $$"""
    )


def drop_pseudonym_sql(cr):
    """Uninstall: the secret goes with the data it protected."""
    cr.execute("DROP FUNCTION IF EXISTS sms_center_pseudonym(text) CASCADE")
    cr.execute("DROP TABLE IF EXISTS sms_center_pseudonym_secret")


def pseudonyms(cr, values):
    """``{value: pseudonym}`` for the non-empty ``values``."""
    values = sorted({value for value in values if value})
    if not values:
        return {}
    cr.execute(
        "SELECT v, sms_center_pseudonym(v) FROM unnest(%s::text[]) AS v", [values]
    )
    return dict(cr.fetchall())

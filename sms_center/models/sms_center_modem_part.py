from datetime import UTC, timedelta

from odoo import api, fields, models

# Parts already turned into messages are kept this long, for auditing and so
# that an SMS read again from a modem (a delete that kept failing) is still
# recognised by its key.
DONE_RETENTION_DAYS = 30


class SmsCenterModemPart(models.Model):
    """One SMS exactly as a GSM modem stored it: a whole SMS or one part of a
    concatenated (multi-part) SMS.

    The modem worker saves every SMS it reads here, keyed by the content
    based ``raw_key``, and commits *before* deleting it from the modem: a
    crash in between only makes the next poll read it again, and the unique
    key turns that second save into a no-op. Parts then wait here until
    their message is complete (or the gateway's timeout passes) and are
    marked done in the same transaction that stores the message.
    """

    _name = "sms_center.modem.part"
    # The citizen's number is shown masked, in full only through the
    # logged "Show number" action (UU 27/2022, accountability).
    _inherit = ["sms_center.number.mask.mixin"]
    _description = "SMS Center Modem Inbound Part"
    _order = "first_seen_at desc, id desc"
    _rec_name = "raw_key"

    gateway_id = fields.Many2one(
        "sms_center.gateway", required=True, readonly=True, ondelete="restrict"
    )
    raw_key = fields.Char(
        string="Unique key",
        required=True,
        readonly=True,
        help="Identifies the SMS from its content (sender, SMSC time stamp, "
        "header, text), whatever memory location the modem used.",
    )
    sender = fields.Char(readonly=True)
    text = fields.Text(readonly=True)
    smsc = fields.Char(string="SMSC", readonly=True)
    concat_ref = fields.Integer(string="Concatenation reference", readonly=True)
    part_no = fields.Integer(string="Part", readonly=True)
    part_count = fields.Integer(string="Parts", readonly=True)
    received_at = fields.Datetime(readonly=True, help="SMSC time stamp of this part.")
    first_seen_at = fields.Datetime(
        required=True,
        readonly=True,
        help="When the worker first read this part from the modem; the wait "
        "for missing parts counts from here.",
    )
    message_id = fields.Many2one(
        "sms_center.message", string="Message", readonly=True, ondelete="restrict"
    )
    state = fields.Selection(
        [
            ("pending", "Waiting"),
            ("done", "In a message"),
            ("duplicate", "Duplicate part"),
            ("error", "Could not be processed"),
        ],
        required=True,
        readonly=True,
        default="pending",
    )
    error = fields.Char(readonly=True)
    processed_at = fields.Datetime(readonly=True)

    _sql_constraints = [
        (
            "raw_key_unique",
            "unique(gateway_id, raw_key)",
            "This SMS was already saved from this modem.",
        ),
    ]

    @api.model
    def _sms_center_masked_fields(self):
        return ["sender"]

    def init(self):
        # The worker reads the waiting parts of one gateway at every poll.
        self.env.cr.execute(
            """CREATE INDEX IF NOT EXISTS sms_center_modem_part_pending_idx
               ON sms_center_modem_part (gateway_id, first_seen_at)
               WHERE state = 'pending'"""
        )

    @api.model
    def _store(self, gateway, parts, seen_at):
        """Insert ``parts`` (:class:`lib.multipart.InboundPart`) of ``gateway``.

        A part whose key is already stored (read again after a crash or a
        failed delete) is skipped. Returns the number of new rows. Plain SQL
        for ``ON CONFLICT DO NOTHING``: no savepoint or exception per part.
        """
        rows = []
        for part in parts:
            rows.append(
                (
                    gateway.id,
                    part.raw_key,
                    _clean(part.sender),
                    _clean(part.text),
                    _clean(part.smsc) or None,
                    part.concat_ref,
                    part.part_no,
                    part.part_count,
                    _naive_utc(part.received_at),
                    seen_at,
                )
            )
        if not rows:
            return 0
        self.flush_model()
        uid = self.env.uid
        inserted = 0
        for row in rows:
            self.env.cr.execute(
                """INSERT INTO sms_center_modem_part
                       (gateway_id, raw_key, sender, text, smsc, concat_ref,
                        part_no, part_count, received_at, first_seen_at, state,
                        create_uid, create_date, write_uid, write_date)
                   VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'pending',
                           %s, %s, %s, %s)
                   ON CONFLICT (gateway_id, raw_key) DO NOTHING""",
                [*row, uid, seen_at, uid, seen_at],
            )
            inserted += self.env.cr.rowcount
        return inserted

    @api.autovacuum
    def _gc_processed_parts(self):
        limit = fields.Datetime.now() - timedelta(days=DONE_RETENTION_DAYS)
        self.search(
            [("state", "in", ("done", "duplicate")), ("processed_at", "<", limit)]
        ).unlink()


def _clean(value):
    """PostgreSQL text cannot hold NUL; the message store makes it U+2400."""
    return (value or "").replace("\x00", "\u2400")


def _naive_utc(value):
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value

import logging

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..lib import keyword_parser
from ..tools.mail import author_email_from
from .sms_center_officer import normalize_sender_id, sender_id_warning

_logger = logging.getLogger(__name__)


class SmsCenterKeyword(models.Model):
    """The first word of a citizen's SMS, owned by one unit (R2)."""

    _name = "sms_center.keyword"
    _description = "SMS Center Keyword"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "sequence, name"

    name = fields.Char(
        string="Keyword",
        required=True,
        tracking=True,
        help="Short word citizens type first, e.g. DINKES. Stored in upper case; "
        "matching ignores case.",
    )
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True, tracking=True)
    description = fields.Char(
        translate=True,
        help="What citizens can send under this keyword; shown in the public "
        "keyword list.",
    )
    team_id = fields.Many2one(
        "helpdesk.ticket.team",
        string="Unit",
        required=True,
        tracking=True,
        ondelete="restrict",
        index=True,
    )
    officer_ids = fields.Many2many(
        "sms_center.officer",
        "sms_center_keyword_officer_rel",
        "keyword_id",
        "officer_id",
        string="Officers",
        help="Officers who answer this keyword's inbox. New messages are assigned "
        "to the first one.",
    )
    officer_user_ids = fields.Many2many(
        "res.users",
        compute="_compute_officer_user_ids",
        search="_search_officer_user_ids",
        string="Officer logins",
    )
    alias_ids = fields.One2many(
        "sms_center.keyword.alias", "keyword_id", string="Aliases", copy=False
    )
    sender_id = fields.Char(
        string="Sender ID",
        tracking=True,
        help="Alphanumeric sender ID for answers under this keyword. Empty: the "
        "first officer's sender ID, then the gateway's default.",
    )
    sender_id_warning = fields.Char(
        string="Sender ID warning", compute="_compute_sender_id_warning"
    )
    reserved_word_warning = fields.Char(
        string="Reserved word warning", compute="_compute_reserved_word_warning"
    )
    ticket_ids = fields.One2many("helpdesk.ticket", "sms_keyword_id", string="Tickets")
    open_ticket_count = fields.Integer(compute="_compute_ticket_counts")
    ticket_count = fields.Integer(compute="_compute_ticket_counts")

    @api.depends("officer_ids.user_id")
    def _compute_officer_user_ids(self):
        for keyword in self:
            keyword.officer_user_ids = keyword.officer_ids.user_id

    def _search_officer_user_ids(self, operator, value):
        return [("officer_ids.user_id", operator, value)]

    @api.depends("sender_id")
    def _compute_sender_id_warning(self):
        for keyword in self:
            keyword.sender_id_warning = sender_id_warning(self.env, keyword.sender_id)

    @api.depends("name", "alias_ids.name", "active")
    def _compute_reserved_word_warning(self):
        reserved = self._get_reserved_words()
        for keyword in self:
            clash = [
                token
                for token in [keyword.name, *keyword.alias_ids.mapped("name")]
                if token in reserved
            ]
            keyword.reserved_word_warning = (
                keyword.active
                and clash
                and self.env._(
                    "%(words)s is also a reserved word of the SMS Center. This "
                    "keyword was created before; SMS starting with it still come "
                    "here, and citizens cannot use the reserved word. Rename the "
                    "keyword or alias.",
                    words=", ".join(clash),
                )
            ) or False

    def _compute_ticket_counts(self):
        Ticket = self.env["helpdesk.ticket"]
        totals = dict(
            Ticket._read_group(
                [("sms_keyword_id", "in", self.ids)], ["sms_keyword_id"], ["__count"]
            )
        )
        open_counts = dict(
            Ticket._read_group(
                [("sms_keyword_id", "in", self.ids), ("stage_id.closed", "=", False)],
                ["sms_keyword_id"],
                ["__count"],
            )
        )
        for keyword in self:
            keyword.ticket_count = totals.get(keyword, 0)
            keyword.open_ticket_count = open_counts.get(keyword, 0)

    def _creation_message(self):
        # The model's name may not be translated yet when demo data load;
        # the message is in the creator's language, as Odoo's own one.
        env = self.with_context(lang=self.env.lang or self.env.user.lang).env
        return env._("Keyword created")

    def init(self):
        # Case-insensitive uniqueness among active keywords, race-proof; also
        # the index of every inbound SMS lookup.
        self.env.cr.execute(
            """CREATE UNIQUE INDEX IF NOT EXISTS sms_center_keyword_name_active_uniq
               ON sms_center_keyword (upper(name)) WHERE active"""
        )

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------

    @api.model
    def _normalize_vals(self, vals):
        if vals.get("name"):
            vals["name"] = keyword_parser.normalize_keyword(vals["name"])
        if "sender_id" in vals:
            vals["sender_id"] = normalize_sender_id(self.env, vals["sender_id"])
        return vals

    @api.model_create_multi
    def create(self, vals_list):
        vals_list = [self._normalize_vals(dict(v)) for v in vals_list]
        tokens = [
            v["name"] for v in vals_list if v.get("name") and v.get("active", True)
        ] + [
            keyword_parser.normalize_keyword(cmd[2]["name"])
            for v in vals_list
            if v.get("active", True)
            for cmd in v.get("alias_ids") or []
            if cmd[0] == 0 and cmd[2].get("name")
        ]
        self._check_not_reserved(tokens)
        self._check_tokens_available(tokens)
        keywords = super().create(vals_list)
        keywords._sync_team_members()
        return keywords

    def write(self, vals):
        vals = self._normalize_vals(dict(vals))
        if vals.get("name") or vals.get("active"):
            for keyword in self:
                names = [vals.get("name") or keyword.name]
                if vals.get("active"):
                    names += keyword.alias_ids.mapped("name")
                # A new name, or an archived keyword coming back, may not take
                # a reserved word (an active keyword keeps its old name).
                if keyword.active:
                    new = [n for n in names[:1] if n != keyword.name]
                else:
                    new = names if vals.get("active") else []
                keyword._check_not_reserved(new)
                keyword._check_tokens_available(names, exclude=keyword)
        res = super().write(vals)
        if {"officer_ids", "team_id"} & set(vals):
            self._sync_team_members()
        return res

    def _sync_team_members(self):
        """Officers are members of their keyword's unit (helpdesk team)."""
        for keyword in self:
            missing = keyword.officer_ids.user_id - keyword.team_id.user_ids
            if missing:
                # sudo: administrators manage keywords; team membership follows.
                keyword.team_id.sudo().user_ids = [
                    fields.Command.link(u.id) for u in missing
                ]

    @api.constrains("name", "active")
    def _check_name(self):
        for keyword in self:
            if not keyword_parser.is_valid_keyword(keyword.name):
                raise ValidationError(
                    self.env._(
                        "%(keyword)s is not a valid keyword: use 2 to 20 letters or "
                        "digits starting with a letter.",
                        keyword=keyword.name,
                    )
                )
        self._check_unique_tokens()

    @api.model
    def _check_tokens_available(self, tokens, exclude=None):
        """Refuse, with a clear message, tokens already used by another active
        keyword. The unique index still guards against concurrent saves."""
        tokens = [t for t in tokens if t]
        if not tokens:
            return
        duplicates = {t for t in tokens if tokens.count(t) > 1}
        excluded = exclude.ids if exclude else []
        taken = {
            token
            for token, keyword_id in self._get_token_rows()
            if token in tokens and keyword_id not in excluded
        }
        if duplicates | taken:
            raise ValidationError(
                self.env._(
                    "Keyword or alias already in use: %(tokens)s. Keywords and aliases "
                    "must be unique (ignoring case) among active keywords.",
                    tokens=", ".join(sorted(duplicates | taken)),
                )
            )

    @api.model
    def _check_not_reserved(self, tokens):
        """Refuse keywords and aliases equal to a reserved word (CEK, INFO and
        their other words): reserved words are answered before keywords."""
        reserved = self._get_reserved_words()
        clash = sorted({t for t in tokens if t in reserved})
        if clash:
            raise ValidationError(
                self.env._(
                    "%(words)s is a reserved word of the SMS Center (CEK and its "
                    "other words ask the status of a citizen's SMS, INFO and its "
                    "other words how to use the service): it cannot be a keyword "
                    "or an alias.",
                    words=", ".join(clash),
                )
            )

    # ------------------------------------------------------------------
    # Reserved words (R17)
    # ------------------------------------------------------------------

    @api.model
    def _get_reserved_words(self, status_words=None, info_words=None):
        """``{WORD: "status" | "info"}``: CEK and INFO and the other words of
        the settings (or of the given setting values)."""
        Settings = self.env["sms_center.settings"]
        if status_words is None:
            status_words = Settings._sms_center_setting("status_words")
        if info_words is None:
            info_words = Settings._sms_center_setting("info_words")
        reserved = {
            keyword_parser.STATUS_WORD: "status",
            keyword_parser.INFO_WORD: "info",
        }
        for word in keyword_parser.parse_word_list(status_words):
            reserved.setdefault(word, "status")
        for word in keyword_parser.parse_word_list(info_words):
            reserved.setdefault(word, "info")
        return reserved

    @api.model
    def _check_reserved_word_settings(self, status_words, info_words):
        """Validate the other words for CEK and INFO before they are saved;
        return them normalized (``"STATUS, CEKSMS"``)."""
        status = keyword_parser.parse_word_list(status_words)
        info = keyword_parser.parse_word_list(info_words)
        invalid = [w for w in status + info if not keyword_parser.is_valid_keyword(w)]
        if invalid:
            raise ValidationError(
                self.env._(
                    "%(words)s: a reserved word has 2 to 20 letters or digits and "
                    "starts with a letter.",
                    words=", ".join(invalid),
                )
            )
        both = sorted(
            (set(status) | {keyword_parser.STATUS_WORD})
            & (set(info) | {keyword_parser.INFO_WORD})
        )
        if both:
            raise ValidationError(
                self.env._(
                    "%(words)s cannot be a word for CEK and for INFO at once.",
                    words=", ".join(both),
                )
            )
        # Existing keywords keep their words: a new reserved word may not
        # take one (that would silently cut citizens off a unit). A word
        # reserved already is not new: a keyword older than it is reported at
        # upgrade, and must not block saving the other settings.
        new = (set(status) | set(info)) - set(self._get_reserved_words())
        taken = {}
        for token, keyword_id in self._get_token_rows():
            if token in new:
                taken.setdefault(token, keyword_id)
        if taken:
            raise ValidationError(
                self.env._(
                    "Already a keyword or alias: %(words)s. Choose other words, or "
                    "rename the keyword first.",
                    words=", ".join(
                        f"{token} ({self.browse(kid).name})"
                        for token, kid in sorted(taken.items())
                    ),
                )
            )
        return ", ".join(status), ", ".join(info)

    @api.model
    def _report_reserved_word_collisions(self):
        """Install and upgrade: keywords or aliases created before their word
        was reserved keep working, and are reported to the administrators
        (server log, the keyword's history, a to-do), never silently
        broken."""
        reserved = self._get_reserved_words()
        clashes = {}
        for token, keyword_id in self._get_token_rows():
            if token in reserved:
                clashes.setdefault(keyword_id, []).append(token)
        if not clashes:
            return self.browse()
        # sudo: runs at upgrade; the report goes to every SMS Center admin.
        keywords = self.sudo().browse(sorted(clashes))
        admins = (
            self.env.ref("sms_center.group_admin")
            .sudo()
            .users.filtered(lambda u: not u.share and u.active and u.id != 1)
        )
        todo = self.env.ref("mail.mail_activity_data_todo", raise_if_not_found=False)
        for keyword in keywords:
            words = ", ".join(sorted(clashes[keyword.id]))
            _logger.warning(
                "SMS Center keyword %s uses the reserved word(s) %s: SMS starting "
                "with them still go to this keyword, and citizens cannot use the "
                "reserved word until the keyword or alias is renamed.",
                keyword.name,
                words,
            )
            note = self.env._(
                "%(words)s became a reserved word of the SMS Center (CEK: status "
                "of an SMS, INFO: how to use the service). SMS starting with it "
                "still come to this keyword, and citizens cannot use the reserved "
                "word until the keyword or alias is renamed.",
                words=words,
            )
            keyword.message_post(body=note, subtype_xmlid="mail.mt_note")
            summary = self.env._("Rename: %(words)s is a reserved word", words=words)
            for admin in admins:
                if todo and not keyword.activity_ids.filtered(
                    lambda a, admin=admin, summary=summary: a.user_id == admin
                    and a.summary == summary
                ):
                    keyword.activity_schedule(
                        activity_type_id=todo.id,
                        summary=summary,
                        note=note,
                        user_id=admin.id,
                    )
        return keywords

    def _check_unique_tokens(self):
        """Keywords and aliases share one case-insensitive namespace."""
        active = self.filtered("active")
        own = active.mapped("name") + active.alias_ids.mapped("name")
        self._check_tokens_available(own, exclude=active)

    # ------------------------------------------------------------------
    # Matching
    # ------------------------------------------------------------------

    @api.model
    def _get_token_map(self):
        """``{TOKEN: keyword_id}`` of active keywords and their aliases."""
        return dict(self._get_token_rows())

    @api.model
    def _get_token_rows(self):
        """``[(TOKEN, keyword_id)]`` of active keywords and their aliases."""
        self.env["sms_center.keyword"].flush_model(["name", "active"])
        self.env["sms_center.keyword.alias"].flush_model(["name", "keyword_id"])
        self.env.cr.execute(
            """SELECT upper(k.name), k.id FROM sms_center_keyword k WHERE k.active
               UNION ALL
               SELECT upper(a.name), a.keyword_id FROM sms_center_keyword_alias a
               JOIN sms_center_keyword k ON k.id = a.keyword_id WHERE k.active"""
        )
        return self.env.cr.fetchall()

    @api.model
    def _match(self, word):
        """Active keyword whose name or alias equals ``word`` (any case)."""
        token = keyword_parser.normalize_keyword(word)
        if not token:
            return self.browse()
        self.env["sms_center.keyword"].flush_model(["name", "active"])
        self.env["sms_center.keyword.alias"].flush_model(["name", "keyword_id"])
        # Both lookups use the upper(name) indexes.
        self.env.cr.execute(
            """SELECT id FROM sms_center_keyword WHERE active AND upper(name) = %(t)s
               UNION ALL
               SELECT a.keyword_id FROM sms_center_keyword_alias a
                 JOIN sms_center_keyword k ON k.id = a.keyword_id
                WHERE k.active AND upper(a.name) = %(t)s
               LIMIT 1""",
            {"t": token},
        )
        row = self.env.cr.fetchone()
        return self.browse(row[0]) if row else self.browse()

    @api.model
    def _suggest(self, word):
        """Closest active keyword to a mistyped ``word`` (or empty)."""
        token_map = self._get_token_map()
        best = keyword_parser.suggest(word, token_map)
        return self.browse(token_map[best]) if best else self.browse()

    def _get_primary_officer(self):
        self.ensure_one()
        return self.officer_ids.filtered("active")[:1]

    def _get_sender_id(self):
        """Sender ID for answers: keyword, then first officer, else False."""
        self.ensure_one()
        return self.sender_id or self._get_primary_officer().sender_id or False

    def _transfer(self, former, successor, note=False):
        """Pass the keyword and its open tickets from ``former`` to ``successor``.

        History stays on the tickets; the former officer stops following them
        and, no longer holding the keyword, loses access to its inbox.
        """
        self.ensure_one()
        Ticket = self.env["helpdesk.ticket"]
        self.write(
            {
                "officer_ids": [
                    fields.Command.unlink(former.id),
                    fields.Command.link(successor.id),
                ]
            }
        )
        open_tickets = Ticket.search(
            [
                ("sms_keyword_id", "=", self.id),
                ("stage_id.closed", "=", False),
                ("user_id", "in", [former.user_id.id, False]),
            ]
        )
        open_tickets.write({"user_id": successor.user_id.id})
        # sudo: former officers may follow tickets of other units too; only
        # this keyword's tickets are touched.
        all_tickets = Ticket.sudo().search([("sms_keyword_id", "=", self.id)])
        all_tickets.message_unsubscribe(partner_ids=former.user_id.partner_id.ids)
        self.message_post(
            body=self.env._(
                "Keyword transferred from %(former)s to %(successor)s; %(count)s open "
                "message(s) moved. %(note)s",
                former=former.name,
                successor=successor.name,
                count=len(open_tickets),
                note=note or "",
            ),
            subtype_xmlid="mail.mt_note",
            author_id=self.env.user.partner_id.id,
            email_from=author_email_from(self.env),
        )
        return open_tickets

    def action_open_transfer_wizard(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Transfer keyword %(keyword)s", keyword=self.name),
            "res_model": "sms_center.keyword.transfer",
            "view_mode": "form",
            "target": "new",
            "context": {"default_keyword_id": self.id},
        }

    def action_view_tickets(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "sms_center.action_sms_ticket_all"
        )
        action["domain"] = [("sms_keyword_id", "=", self.id)]
        action["context"] = {}
        return action


class SmsCenterKeywordAlias(models.Model):
    """Another word that routes to the same keyword, e.g. KESEHATAN -> DINKES."""

    _name = "sms_center.keyword.alias"
    _description = "SMS Center Keyword Alias"
    _order = "name"

    name = fields.Char(string="Alias", required=True)

    def init(self):
        self.env.cr.execute(
            """CREATE INDEX IF NOT EXISTS sms_center_keyword_alias_upper_name_idx
               ON sms_center_keyword_alias (upper(name))"""
        )

    keyword_id = fields.Many2one(
        "sms_center.keyword", required=True, ondelete="cascade", index=True
    )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("name"):
                vals["name"] = keyword_parser.normalize_keyword(vals["name"])
        self.env["sms_center.keyword"]._check_not_reserved(
            [v["name"] for v in vals_list if v.get("name")]
        )
        return super().create(vals_list)

    def write(self, vals):
        if vals.get("name"):
            vals["name"] = keyword_parser.normalize_keyword(vals["name"])
            if any(alias.name != vals["name"] for alias in self):
                self.env["sms_center.keyword"]._check_not_reserved([vals["name"]])
        return super().write(vals)

    @api.constrains("name", "keyword_id")
    def _check_name(self):
        for alias in self:
            if not keyword_parser.is_valid_keyword(alias.name):
                raise ValidationError(
                    self.env._(
                        "%(alias)s is not a valid alias: use 2 to 20 letters or "
                        "digits starting with a letter.",
                        alias=alias.name,
                    )
                )
        self.keyword_id._check_unique_tokens()

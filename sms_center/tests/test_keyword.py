from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import SmsCenterCase


@tagged("post_install", "-at_install")
class TestKeyword(SmsCenterCase):
    def test_name_is_stored_upper_case(self):
        keyword = self.Keyword.create(
            {"name": " tpajak ", "team_id": self.team_roads.id}
        )
        self.assertEqual(keyword.name, "TPAJAK")

    def test_unique_ignoring_case_among_keywords_and_aliases(self):
        with self.assertRaises(ValidationError):
            self.Keyword.create({"name": "tdinkes", "team_id": self.team_roads.id})
        with self.assertRaises(ValidationError):
            # TSEHAT is an alias of TDINKES.
            self.Keyword.create({"name": "Tsehat", "team_id": self.team_roads.id})
        with self.assertRaises(ValidationError):
            self.kw_roads.write({"alias_ids": [(0, 0, {"name": "tdinkes"})]})
        with self.assertRaises(ValidationError):
            self.Keyword.create(
                {
                    "name": "TDOUBLE",
                    "team_id": self.team_roads.id,
                    "alias_ids": [(0, 0, {"name": "TDOUBLE"})],
                }
            )

    def test_archived_keyword_frees_its_name(self):
        self.kw_roads.active = False
        keyword = self.Keyword.create(
            {"name": "tjalan", "team_id": self.team_health.id}
        )
        self.assertEqual(self.Keyword._match("TJALAN"), keyword)
        with self.assertRaises(ValidationError):
            self.kw_roads.active = True

    def test_invalid_names_refused(self):
        for name in ("A", "1ABC", "DIN KES", "DINKES#", "X" * 21, "ÉCOLE"):
            with self.subTest(name=name), self.assertRaises(ValidationError):
                self.Keyword.create({"name": name, "team_id": self.team_roads.id})

    def test_match_ignores_case_and_uses_aliases(self):
        self.assertEqual(self.Keyword._match("tdinkes"), self.kw_health)
        self.assertEqual(self.Keyword._match("TSehat"), self.kw_health)
        self.assertFalse(self.Keyword._match("NOPE"))
        # The cache follows changes at once.
        self.kw_health.alias_ids = [(0, 0, {"name": "TKESEHATAN"})]
        self.assertEqual(self.Keyword._match("tkesehatan"), self.kw_health)
        self.kw_health.active = False
        self.assertFalse(self.Keyword._match("TDINKES"))

    def test_suggest_near_miss(self):
        self.assertEqual(self.Keyword._suggest("TDINKS"), self.kw_health)
        self.assertEqual(self.Keyword._suggest("TJALANRUSAK"), self.kw_roads)
        self.assertFalse(self.Keyword._suggest("QWERTYUIOP"))

    def test_officers_join_the_unit(self):
        self.assertIn(self.user_health, self.team_health.user_ids)
        self.kw_roads.officer_ids = [(4, self.officer_successor.id)]
        self.assertIn(self.user_successor, self.team_roads.user_ids)

    def test_sender_id_rules(self):
        self.kw_roads.sender_id = "PEMKAB"
        self.assertFalse(self.kw_roads.sender_id_warning)
        self.kw_roads.sender_id = "PEMKABBANJAR"[:11]
        self.assertTrue(self.kw_roads.sender_id_warning)
        for bad in ("TOOLONGSENDER", "WITH SPACE", "ÜMLAUT€", "A-B"):
            with self.subTest(bad=bad), self.assertRaises(ValidationError):
                self.kw_roads.sender_id = bad
        # Keyword first, then the first officer.
        self.kw_health.sender_id = False
        self.assertEqual(self.kw_health._get_sender_id(), "DINKES")

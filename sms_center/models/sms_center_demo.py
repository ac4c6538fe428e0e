from datetime import timedelta

from odoo import api, fields, models

# (hours ago, sender, text, answer or None, answer status, moderation)
DEMO_SMS = [
    (
        70,
        "081327112233",
        "BUPATI Pak Bupati, kapan jalan Desa Pagedongan diperbaiki? "
        "Sudah 2 tahun rusak.",
        "Terima kasih. Perbaikan dijadwalkan bulan depan oleh DPUPR.",
        "sent",
        None,
    ),
    (
        68,
        "085640221100",
        "DINKES Puskesmas Wanadadi tutup jam 11 padahal jadwal sampai " "jam 14.",
        "Mohon maaf, sudah kami tegur. Jam layanan kembali normal mulai besok.",
        "sent",
        None,
    ),
    (
        66,
        "081227334455",
        "dinkes: jadwal imunisasi campak di posyandu Kutabanjar kapan?",
        "Imunisasi campak Posyandu Kutabanjar: Kamis 09.00-11.00.",
        "sent",
        None,
    ),
    (
        60,
        "082136778899",
        "DISDIK PPDB SMP tahun ini zonasi atau tes? Terima kasih",
        "PPDB SMP memakai jalur zonasi, afirmasi, mutasi dan prestasi.",
        "sent",
        None,
    ),
    (
        55,
        "089612345678",
        "JALAN jembatan gantung di Desa Sijeruk miring, bahaya untuk " "anak sekolah!!",
        "Tim sudah meninjau lokasi; jembatan ditutup sementara.",
        "failed",
        None,
    ),
    (
        50,
        "081390001122",
        "KTP saya sudah rekam 3 bulan belum jadi, nomor registrasi " "3304xxxx",
        "Blangko tersedia, KTP-el dapat diambil di Disdukcapil mulai Senin.",
        "sent",
        "excluded",
    ),
    (
        47,
        "085712340987",
        "DISHUB lampu merah perempatan Sokanandi mati sejak kemarin",
        "Terima kasih laporannya, petugas sedang memperbaiki.",
        "pending",
        None,
    ),
    (
        45,
        "081227009988",
        "CAPIL syarat akta kelahiran untuk anak umur 5 tahun apa saja?",
        None,
        None,
        None,
    ),
    (
        30,
        "081327445566",
        "KECBNA mohon info jam pelayanan kecamatan hari Sabtu",
        None,
        None,
        None,
    ),
    (
        26,
        "081225556677",
        "KECWND sampah menumpuk di pasar Wanadadi, bau sekali 😷",
        None,
        None,
        None,
    ),
    (
        20,
        "085601239876",
        "BUPATI terima kasih pak, pelayanan RSUD sekarang cepat 👍",
        "Terima kasih atas apresiasinya.",
        "sent",
        None,
    ),
    (
        12,
        "081327778899",
        "DPUPR saluran irigasi di Rakit tersumbat, sawah kekeringan",
        None,
        None,
        None,
    ),
    (
        8,
        "087712341234",
        "sehat obat di puskesmas Bawang kosong terus",
        None,
        None,
        None,
    ),
    (5, "081393337777", "DISDIK guru honorer kapan gajinya cair?", None, None, None),
    (
        4,
        "081393337777",
        "DISDIK maaf tambahan: sudah 3 bulan belum cair",
        None,
        None,
        None,
    ),
    (3, "082227776655", "Dinkes. Apakah vaksin booster masih ada?", None, None, None),
    (
        2,
        "081225550011",
        "BUPATI kapan ada pasar murah lagi di Banjarnegara?",
        None,
        None,
        None,
    ),
    (1, "085799990000", "JALAN# lubang besar di depan SD 1 Klampok", None, None, None),
    (1, "081312121212", "CAPIL bisa urus KK secara online?", None, None, None),
    (
        0.5,
        "085711112222",
        "DISHUB angkot jurusan Wanadadi tidak ada setelah jam 5 sore",
        None,
        None,
        None,
    ),
    (
        90,
        "081390907070",
        "DPUPR trotoar di Jl. Pemuda banyak yang rusak",
        "Sudah masuk " "rencana pemeliharaan tahun ini. Terima kasih.",
        "sent",
        None,
    ),
    (
        86,
        "085640403030",
        "DISHUB usul halte di depan pasar Banjarnegara",
        "Usulan kami " "catat untuk kajian tahun depan.",
        "sent",
        None,
    ),
    (
        80,
        "081227272727",
        "KECBNA surat pengantar SKCK dari kecamatan masih perlu?",
        "Tidak perlu, cukup pengantar desa/kelurahan.",
        "sent",
        None,
    ),
    (
        76,
        "082121215656",
        "DISDIK beasiswa untuk siswa SMA kurang mampu ada?",
        "Ada " "program PIP. Silakan hubungi sekolah masing-masing.",
        "sent",
        None,
    ),
    (
        74,
        "081315151616",
        "KECWND jalan desa Tapen longsor sebagian",
        "Sudah kami teruskan " "ke DPUPR dan BPBD.",
        "sent",
        None,
    ),
    (
        35,
        "085611117777",
        "CAPIL pindah domisili dari Wonosobo ke Banjarnegara caranya?",
        "Bawa surat pindah dari Disdukcapil Wonosobo, KK dan KTP asli.",
        "pending",
        None,
    ),
    (
        33,
        "081329292828",
        "DINKES ambulans desa Kalibening rusak mohon bantuan",
        None,
        None,
        None,
    ),
    (
        28,
        "087733334444",
        "BUPATI saran: buat taman bermain anak di alun-alun",
        None,
        None,
        None,
    ),
    (
        16,
        "081390901212",
        "puskesmas antrean BPJS lama sekali, mohon ditambah loket",
        None,
        None,
        None,
    ),
    (9, "085622223333", "KK anak saya belum masuk di KK, bagaimana?", None, None, None),
    # Unknown keywords, non-replyable senders, spam.
    (40, "081229998877", "HALO ini nomor apa ya?", None, None, None),
    (22, "081338889999", "DINKS puskesmas Punggelan tutup", None, None, None),
    (18, "085612121313", "", None, None, None),
    (
        15,
        "TELKOMSEL",
        "Promo! Paket internet 30GB hanya Rp50rb. Ketik UL ON",
        None,
        None,
        None,
    ),
    (10, "3636", "Sisa pulsa Anda Rp2.500. Isi ulang sekarang.", None, None, None),
    (
        6,
        "081200000001",
        "BUPATI menangkan hadiah 100 juta klik link bit.ly/xxxx",
        None,
        None,
        "spam",
    ),
    (3, "081200000002", "PERTANIAN harga pupuk naik terus pak", None, None, None),
    # Citizens asking the status of their SMS, and how to use the service.
    (0.4, "081393337777", "CEK", None, None, None),
    (0.3, "081229998877", "info", None, None, None),
]


class SmsCenterMessage(models.Model):
    _inherit = "sms_center.message"

    @api.model
    def _demo_populate(self):
        """Demo data: a few days of believable traffic across every state."""
        now = fields.Datetime.now()
        Wizard = self.env["sms_center.reply.wizard"]
        # Demo data is loaded before the module's translations: load them now,
        # so that the demo's SMS to citizens use the Indonesian texts.
        lang = self._get_citizen_lang()
        if lang != "en_US":
            self.env["ir.module.module"]._load_module_terms(["sms_center"], [lang])
        for hours, sender, text, answer, status, moderation in DEMO_SMS:
            message = self.receive(
                sender, text, received_at=now - timedelta(hours=hours), gateway=None
            )
            if moderation:
                message.write(
                    {
                        "moderation_state": moderation,
                        "moderation_reason": "Demo: contains a personal ID number"
                        if moderation == "excluded"
                        else "Demo: fraudulent prize message",
                    }
                )
            if not answer or not message.ticket_id:
                continue
            ticket = message.ticket_id
            officer = ticket.user_id
            Wizard.with_user(officer).create(
                {"ticket_id": ticket.id, "body": answer}
            ).action_send()
            sms = self.env["sms.sms"].search(
                [("uuid", "=", ticket.sms_reply_ids[:1].sms_uuid)]
            )
            if status == "sent":
                sms.write({"state": "sent"})
            elif status == "failed":
                sms.write({"state": "error", "failure_type": "sms_number_format"})
        # Auto-replies of the demo are shown as sent.
        self.env["sms.sms"].search(
            [("state", "=", "outgoing"), ("mail_message_id.model", "=", self._name)]
        ).write({"state": "pending"})

/** @odoo-module **/
import {registry} from "@web/core/registry";

// An officer opens an SMS from the inbox and answers it; used at desktop
// and phone (375 px) sizes.
registry.category("web_tour.tours").add("sms_center_reply_tour", {
    url: "/odoo/action-sms_center.action_sms_inbox",
    steps: () => [
        {
            content: "Open the citizen's SMS from the inbox",
            trigger:
                ".o_kanban_record:contains('TOURKW: lampu jalan'), .o_data_row td[name='name']:contains('TOURKW: lampu jalan')",
            run: "click",
        },
        {
            content: "The citizen's text is shown",
            trigger: ".o_form_view:contains('TOURKW lampu jalan di desa Kalilunjar mati')",
        },
        {
            content: "The citizen's follow-up is in the chatter",
            trigger: ".o-mail-Chatter .o-mail-Message:contains('tepatnya di depan balai desa')",
        },
        {
            content: "Reply by SMS",
            trigger: ".o_form_view button[name='action_open_sms_reply']:visible",
            run: "click",
        },
        {
            content: "Write the answer",
            trigger: ".modal div[name='body'] textarea",
            run: "edit Terima kasih, petugas kami memperbaiki lampu besok pagi.",
        },
        {
            content: "Length and parts are shown",
            trigger: ".modal div[name='length_info']:contains('1 SMS'):contains('GSM-7')",
        },
        {
            content: "Send",
            trigger: ".modal button[name='action_send']",
            run: "click",
        },
        {
            content: "Open the answers",
            trigger: ".o_form_view a.nav-link[name='sms_answers']",
            run: "click",
        },
        {
            content: "The answer is listed with its status badge",
            trigger:
                ".o_form_view div[name='sms_reply_ids']:contains('petugas kami memperbaiki') .o_field_badge",
        },
    ],
});

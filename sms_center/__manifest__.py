# Copyright 2026 Regency SMS Center contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
{
    "name": "SMS Center",
    "summary": "Public SMS information and complaint service: keywords, "
    "inbound routing to helpdesk tickets, answers by SMS, gateways",
    "version": "18.0.1.0.0",
    "category": "Services/Helpdesk",
    "website": "https://github.com/regency/sms_center",
    "author": "Regency SMS Center contributors",
    "license": "AGPL-3",
    "application": True,
    "installable": True,
    "depends": [
        "mail",
        "sms",
        "phone_validation",
        "resource",
        "website",
        "helpdesk_mgmt",
    ],
    "external_dependencies": {
        "python": ["phonenumbers", "requests"],
    },
    "data": [
        "security/sms_center_security.xml",
        "security/ir.model.access.csv",
        "data/sms_center_data.xml",
        "data/sms_center_gateway_cron.xml",
        "views/helpdesk_ticket_views.xml",
        "views/sms_center_message_views.xml",
        "views/sms_center_keyword_views.xml",
        "views/sms_center_officer_views.xml",
        "views/sms_center_gateway_views.xml",
        "views/sms_center_reply_views.xml",
        "views/sms_center_settings_views.xml",
        "views/res_config_settings_views.xml",
        "views/website_templates.xml",
        "views/sms_center_menus.xml",
        "data/sms_center_deadline_data.xml",
        "data/sms_center_cron.xml",
        "views/helpdesk_ticket_deadline_views.xml",
        "views/sms_center_reminder_views.xml",
        "data/sms_center_gammu_cron.xml",
        "views/sms_center_gateway_gammu_views.xml",
    ],
    "demo": ["demo/sms_center_demo.xml"],
    "assets": {
        "web.assets_tests": [
            "sms_center/static/tests/tours/*.js",
        ],
    },
}

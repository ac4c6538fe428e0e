/** @odoo-module **/
import {registry} from "@web/core/registry";

// An SMS Center administrator (no Odoo Settings right) sets the follow-up
// window to 0 on the center's settings page and saves it.
registry.category("web_tour.tours").add("sms_center_settings_tour", {
    url: "/odoo/action-sms_center.action_sms_center_settings",
    steps: () => [
        {
            content: "The settings page shows the SMS Center block",
            trigger: ".app_settings_block[data-key='sms_center']",
        },
        {
            content: "Set the follow-up window to 0",
            trigger: "div[name='sms_center_append_window_minutes'] input",
            run: "edit 0",
        },
        {
            content: "Save",
            trigger: ".o_form_button_save:visible",
            run: "click",
        },
        {
            // The "unsaved changes" mark is on the form renderer, not inside
            // the block: wait until the save has gone through.
            content: "Saved: the page reloads without unsaved changes",
            trigger:
                ".o_form_renderer:not(.o_form_dirty) .app_settings_block[data-key='sms_center']",
        },
    ],
});

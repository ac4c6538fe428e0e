/** @odoo-module **/
import { Chatter } from "@mail/chatter/web_portal/chatter";
import { patch } from "@web/core/utils/patch";

// On an SMS ticket, "Send message" would write to the ticket's followers
// (colleagues), never to the citizen: the answer goes by "Reply by SMS".
// Only "Log note" stays, for internal notes.
patch(Chatter.prototype, {
    get smsCenterHideSendMessage() {
        const record = this.props.webRecord;
        return Boolean(
            this.props.threadModel === "helpdesk.ticket" &&
                record &&
                record.data &&
                record.data.sms_keyword_id
        );
    },
});

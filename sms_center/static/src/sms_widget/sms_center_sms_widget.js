/** @odoo-module **/
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { SmsWidget, smsWidget } from "@sms/components/sms_widget/fields_sms_widget";
import { useEffect, useState } from "@odoo/owl";
import { measureSms } from "../core/sms_length";

/**
 * Odoo's SMS text field with one counter that follows every keystroke
 * (Odoo 18's own counter only follows the saved value) and counts the way
 * the center sends: characters, SMS parts, GSM-7 or Unicode.
 */
export class SmsCenterSmsWidget extends SmsWidget {
    static template = "sms_center.SmsWidget";

    setup() {
        super.setup();
        this.live = useState({ text: null });
        // Once the value is committed, count from the record again.
        useEffect(
            () => {
                this.live.text = null;
            },
            () => [this.props.record.data[this.props.name]]
        );
    }

    onLiveInput(ev) {
        this.live.text = ev.target.value;
    }

    get smsText() {
        return this.live.text ?? (this.props.record.data[this.props.name] || "");
    }

    get smsLength() {
        return measureSms(this.smsText);
    }

    get counterText() {
        const length = this.smsLength;
        return _t("%(chars)s characters · %(parts)s SMS · %(encoding)s (%(perPart)s per SMS)", {
            chars: length.units,
            parts: this.smsText ? length.parts : 0,
            encoding: length.encoding === "gsm7" ? "GSM-7" : "Unicode",
            perPart: length.perPart,
        });
    }

    get counterHint() {
        const length = this.smsLength;
        if (length.encoding === "ucs2") {
            return _t("Emoji or special letters make every SMS shorter (70 characters).");
        }
        if (length.parts > 1) {
            return _t("Sent as %(parts)s SMS, joined on the citizen's phone.", {
                parts: length.parts,
            });
        }
        return "";
    }
}

export const smsCenterSmsWidget = {
    ...smsWidget,
    component: SmsCenterSmsWidget,
};

registry.category("fields").add("sms_center_sms", smsCenterSmsWidget);

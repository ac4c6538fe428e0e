/** @odoo-module **/
// Characters and SMS parts of a text, exactly as the server counts them
// (sms_center/lib/gsm.py): GSM-7 with its extension table (2 septets each),
// else Unicode (UCS-2, UTF-16 code units: an emoji counts 2).

const GSM7_BASIC = new Set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
        "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
);
const GSM7_EXTENDED = new Set("^{}\\[~]|€\f");

export const GSM7_SINGLE = 160;
export const GSM7_PART = 153;
export const UCS2_SINGLE = 70;
export const UCS2_PART = 67;

/**
 * @param {string} text
 * @returns {{encoding: "gsm7"|"ucs2", units: number, parts: number, perPart: number}}
 */
export function measureSms(text) {
    text = text || "";
    let gsm7 = true;
    let septets = 0;
    for (const ch of text) {
        if (GSM7_BASIC.has(ch)) {
            septets += 1;
        } else if (GSM7_EXTENDED.has(ch)) {
            septets += 2;
        } else {
            gsm7 = false;
            break;
        }
    }
    const units = gsm7 ? septets : text.length;
    const [single, multi] = gsm7 ? [GSM7_SINGLE, GSM7_PART] : [UCS2_SINGLE, UCS2_PART];
    const parts = units <= single ? 1 : Math.ceil(units / multi);
    return {
        encoding: gsm7 ? "gsm7" : "ucs2",
        units,
        parts,
        perPart: parts <= 1 ? single : multi,
    };
}

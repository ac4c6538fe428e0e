from odoo.tools import formataddr


def author_email_from(env):
    """``email_from`` for chatter posts by the current user.

    Officers and the secretariat often have no e-mail address; Odoo refuses
    a post whose author has none. The post is a note or an SMS, never a mail,
    so the company's address (or a placeholder) stands in.
    """
    author = env.user.partner_id
    return author.email_formatted or formataddr(
        (author.name, env.company.email or "noreply@sms-center.invalid")
    )

/*
 * bounce_parse: what one message from the bounce mailbox is.
 *
 * libetpan parses the message (mailmime_parse: headers through mailimf,
 * the MIME tree, quoted-printable and base64 through mailmime_part_parse,
 * RFC 2047 words through mailmime_encoded_phrase_parse, charsets through
 * charconv).  The walk collects four things: the delivery-status fields
 * (RFC 3464/6533), the feedback-report fields (RFC 5965), the
 * human-readable text (the report's first text part; HTML only when there
 * is no text), and the headers of the returned message.  Then, in order:
 *   a DSN with recipients             -> per recipient, by Action and Status
 *   an ARF report (or Microsoft JMRP) -> complaint
 *   a bounce by its sender, subject or X-Failed-Recipients
 *                                     -> the text's codes and words
 *   an auto-reply (RFC 3834 and the usual subjects)
 *   an unsubscribe request (its subject, or its first body line)
 *   a bounce by its text alone, or anything sent to a VERP address
 *   anything else                     -> unknown
 */
#include "bounce.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <libetpan/libetpan.h>

#include "bounce_text.h"
#include "buf.h"
#include "util.h"
#include "xmalloc.h"

#define PART_MAX	(256u << 10)	/* decoded bytes kept per kind */
#define DEPTH_MAX	16		/* MIME nesting walked */
#define PAD		16		/* zero bytes after the parsed copy */

struct walk {
	struct buf	 dsn;		/* delivery-status fields */
	struct buf	 arf;		/* feedback-report fields */
	struct buf	 text;		/* human-readable text */
	struct buf	 html;		/* text of HTML parts, as a fallback */
	struct buf	 orig;		/* headers of the returned message */
	bool		 report_dsn, report_arf;
	bool		 saw_text;
};

/* ------------------------------------------------------------------ */
/* small string helpers */

/* ------------------------------------------------------------------ */
/* addresses and codes in free text */

/* ------------------------------------------------------------------ */
/* MIME walk */

static char *
ctype_of(struct mailmime_content *ct, char *out, size_t outlen)
{
	const char *type = "text";

	if (ct == NULL || ct->ct_type == NULL) {
		snprintf(out, outlen, "text/plain");
		return out;
	}
	if (ct->ct_type->tp_type == MAILMIME_TYPE_DISCRETE_TYPE &&
	    ct->ct_type->tp_data.tp_discrete_type) {
		switch (ct->ct_type->tp_data.tp_discrete_type->dt_type) {
		case MAILMIME_DISCRETE_TYPE_TEXT: type = "text"; break;
		case MAILMIME_DISCRETE_TYPE_IMAGE: type = "image"; break;
		case MAILMIME_DISCRETE_TYPE_AUDIO: type = "audio"; break;
		case MAILMIME_DISCRETE_TYPE_VIDEO: type = "video"; break;
		case MAILMIME_DISCRETE_TYPE_APPLICATION: type = "application"; break;
		default:
			type = ct->ct_type->tp_data.tp_discrete_type->dt_extension ?
			    ct->ct_type->tp_data.tp_discrete_type->dt_extension : "x";
		}
	} else if (ct->ct_type->tp_type == MAILMIME_TYPE_COMPOSITE_TYPE &&
	    ct->ct_type->tp_data.tp_composite_type) {
		switch (ct->ct_type->tp_data.tp_composite_type->ct_type) {
		case MAILMIME_COMPOSITE_TYPE_MESSAGE: type = "message"; break;
		case MAILMIME_COMPOSITE_TYPE_MULTIPART: type = "multipart"; break;
		default:
			type = ct->ct_type->tp_data.tp_composite_type->ct_token ?
			    ct->ct_type->tp_data.tp_composite_type->ct_token : "x";
		}
	}
	snprintf(out, outlen, "%s/%s", type, ct->ct_subtype ? ct->ct_subtype : "");
	ascii_lower(out);
	return out;
}

/* Appends the decoded body of a single part (charset converted to UTF-8
 * when convert). */
static void
add_body(struct buf *dst, struct mailmime *m, bool convert)
{
	struct mailmime_data *d = m->mm_data.mm_single;
	char *dec = NULL, *conv = NULL, *cs;
	size_t idx = 0, dlen = 0, room;
	const char *p;
	size_t plen;

	if (d == NULL || d->dt_type != MAILMIME_DATA_TEXT ||
	    d->dt_data.dt_text.dt_data == NULL || dst->len >= PART_MAX)
		return;
	p = d->dt_data.dt_text.dt_data;
	plen = d->dt_data.dt_text.dt_length;
	if (d->dt_encoded && (d->dt_encoding == MAILMIME_MECHANISM_BASE64 ||
	    d->dt_encoding == MAILMIME_MECHANISM_QUOTED_PRINTABLE) &&
	    mailmime_part_parse(p, plen, &idx, d->dt_encoding, &dec, &dlen) ==
	    MAILIMF_NO_ERROR) {
		p = dec;
		plen = dlen;
	}
	cs = convert && m->mm_content_type ?
	    mailmime_content_charset_get(m->mm_content_type) : NULL;
	if (cs && ascii_casecmp(cs, "utf-8") != 0 &&
	    ascii_casecmp(cs, "us-ascii") != 0 &&
	    charconv("utf-8", cs, p, plen, &conv) == MAIL_CHARCONV_NO_ERROR &&
	    conv) {
		p = conv;
		plen = strlen(conv);
	}
	room = PART_MAX - dst->len;
	buf_add(dst, p, plen < room ? plen : room);
	buf_addc(dst, '\n');
	if (conv)
		free(conv);	/* charconv() mallocs (charconv_buffer_free()
				   is for charconv_buffer()) */
	if (dec)
		mailmime_decoded_part_free(dec);
}

/* Crude HTML to text: tags out, block ends as line breaks, a few
 * entities.  Only for reading words and addresses. */
static void
html_to_text(struct buf *dst, const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		if (s[i] == '<') {
			static const char *const blocks[] = { "<br", "</p",
			    "</div", "</tr", "<p", "</li", "</h", NULL };
			size_t j = i + 1, k;

			while (j < n && s[j] != '>')
				j++;
			for (k = 0; blocks[k]; k++)
				if (btext_prefix(s + i, blocks[k]))
					break;
			if (blocks[k])
				buf_addc(dst, '\n');
			else
				buf_addc(dst, ' ');
			i = j + 1;
			continue;
		}
		if (s[i] == '&') {
			static const struct { const char *e; char c; } ent[] = {
				{ "&lt;", '<' }, { "&gt;", '>' }, { "&amp;", '&' },
				{ "&quot;", '"' }, { "&#39;", '\'' }, { "&nbsp;", ' ' },
				{ "&#64;", '@' }, { "&#x40;", '@' },
			};
			size_t k;

			for (k = 0; k < sizeof(ent) / sizeof(ent[0]); k++)
				if (n - i >= strlen(ent[k].e) &&
				    ascii_ncasecmp(s + i, ent[k].e, strlen(ent[k].e)) == 0)
					break;
			if (k < sizeof(ent) / sizeof(ent[0])) {
				buf_addc(dst, ent[k].c);
				i += strlen(ent[k].e);
				continue;
			}
		}
		buf_addc(dst, s[i]);
		i++;
	}
}

/* The raw header block of an embedded message, as text. */
static void
add_header_block(struct buf *dst, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i++)
		if (s[i] == '\n' && (s[i + 1] == '\n' ||
		    (s[i + 1] == '\r' && i + 2 < n && s[i + 2] == '\n')))
			break;
	if (i + 1 >= n)
		i = n;
	if (dst->len + i > PART_MAX)
		return;
	buf_add(dst, s, i);
	buf_addc(dst, '\n');
}

static void
walk(struct walk *w, struct mailmime *m, int depth, bool top)
{
	char ct[96];
	clistiter *it;

	if (m == NULL || depth > DEPTH_MAX)
		return;
	ctype_of(m->mm_content_type, ct, sizeof(ct));
	switch (m->mm_type) {
	case MAILMIME_MULTIPLE: {
		char *rt = NULL;

		if (strcmp(ct, "multipart/report") == 0 && m->mm_content_type)
			rt = mailmime_content_param_get(m->mm_content_type,
			    "report-type");
		if (rt && ascii_casecmp(rt, "delivery-status") == 0)
			w->report_dsn = true;
		if (rt && ascii_casecmp(rt, "feedback-report") == 0)
			w->report_arf = true;
		if (m->mm_data.mm_multipart.mm_mp_list == NULL)
			return;
		for (it = clist_begin(m->mm_data.mm_multipart.mm_mp_list); it;
		    it = clist_next(it))
			walk(w, clist_content(it), depth + 1, false);
		return;
	}
	case MAILMIME_MESSAGE:
		if (top) {
			walk(w, m->mm_data.mm_message.mm_msg_mime, depth + 1,
			    false);
			return;
		}
		/* the returned message: its headers only */
		if (m->mm_mime_start && m->mm_length)
			add_header_block(&w->orig, m->mm_mime_start,
			    m->mm_length);
		return;
	case MAILMIME_SINGLE:
		break;
	default:
		return;
	}
	if (strcmp(ct, "message/delivery-status") == 0 ||
	    strcmp(ct, "message/global-delivery-status") == 0 ||
	    strcmp(ct, "text/delivery-status") == 0)
		add_body(&w->dsn, m, false);
	else if (strcmp(ct, "message/feedback-report") == 0)
		add_body(&w->arf, m, false);
	else if (strcmp(ct, "text/rfc822-headers") == 0 ||
	    strcmp(ct, "message/rfc822-headers") == 0 ||
	    strcmp(ct, "message/rfc822") == 0 ||
	    strcmp(ct, "message/global") == 0 ||
	    strcmp(ct, "message/global-headers") == 0 ||
	    strcmp(ct, "text/rfc822") == 0) {
		struct buf tmp = BUF_INIT;

		add_body(&tmp, m, false);
		if (tmp.len)
			add_header_block(&w->orig, tmp.data, tmp.len);
		buf_free(&tmp);
	} else if (strcmp(ct, "text/html") == 0) {
		struct buf tmp = BUF_INIT;

		add_body(&tmp, m, true);
		if (tmp.len && w->html.len < PART_MAX)
			html_to_text(&w->html, tmp.data, tmp.len);
		buf_free(&tmp);
	} else if (strncmp(ct, "text/", 5) == 0) {
		/* the report's words: text parts up to the returned message */
		add_body(&w->text, m, true);
		w->saw_text = true;
	}
}

/* ------------------------------------------------------------------ */
/* headers */

struct hdrs {
	char	*auto_submitted, *x_autoreply, *precedence, *failed_rcpts;
	char	*from_display;
	char	*content_type;
	bool	 null_return_path;
	bool	 has_autoreply_hdr;
};

static void
add_mailbox_list(struct mailimf_mailbox_list *l, char ***v, size_t *n)
{
	clistiter *it;

	if (l == NULL || l->mb_list == NULL)
		return;
	for (it = clist_begin(l->mb_list); it; it = clist_next(it)) {
		struct mailimf_mailbox *mb = clist_content(it);

		if (mb && mb->mb_addr_spec)
			btext_list_add(v, n, mb->mb_addr_spec,
			    strlen(mb->mb_addr_spec));
	}
}

static void
add_address_list(struct mailimf_address_list *l, char ***v, size_t *n)
{
	clistiter *it;

	if (l == NULL || l->ad_list == NULL)
		return;
	for (it = clist_begin(l->ad_list); it; it = clist_next(it)) {
		struct mailimf_address *a = clist_content(it);

		if (a == NULL)
			continue;
		if (a->ad_type == MAILIMF_ADDRESS_MAILBOX && a->ad_data.ad_mailbox &&
		    a->ad_data.ad_mailbox->mb_addr_spec)
			btext_list_add(v, n, a->ad_data.ad_mailbox->mb_addr_spec,
			    strlen(a->ad_data.ad_mailbox->mb_addr_spec));
		else if (a->ad_type == MAILIMF_ADDRESS_GROUP && a->ad_data.ad_group)
			add_mailbox_list(a->ad_data.ad_group->grp_mb_list, v, n);
	}
}

static char *
decode_words(const char *s)
{
	size_t idx = 0;
	char *dec = NULL, *out;

	if (mailmime_encoded_phrase_parse("iso-8859-1", s, strlen(s), &idx,
	    "utf-8", &dec) == MAILIMF_NO_ERROR && dec) {
		out = btext_clean(dec, strlen(dec), 998);
		free(dec);
		return out;
	}
	return btext_clean(s, strlen(s), 998);
}

static void
keep(char **dst, const char *v)
{
	if (*dst == NULL)
		*dst = btext_clean(v, strlen(v), 998);
}

static void
read_headers(struct mailimf_fields *f, struct bounce *b, struct hdrs *h)
{
	clistiter *it;

	if (f == NULL || f->fld_list == NULL)
		return;
	for (it = clist_begin(f->fld_list); it; it = clist_next(it)) {
		struct mailimf_field *fl = clist_content(it);

		switch (fl->fld_type) {
		case MAILIMF_FIELD_FROM:
			if (b->from == NULL && fl->fld_data.fld_from &&
			    fl->fld_data.fld_from->frm_mb_list &&
			    fl->fld_data.fld_from->frm_mb_list->mb_list) {
				clistiter *mi = clist_begin(
				    fl->fld_data.fld_from->frm_mb_list->mb_list);
				struct mailimf_mailbox *mb = mi ?
				    clist_content(mi) : NULL;

				if (mb && mb->mb_addr_spec)
					b->from = xstrdup(mb->mb_addr_spec);
				if (mb && mb->mb_display_name)
					h->from_display = decode_words(
					    mb->mb_display_name);
			}
			break;
		case MAILIMF_FIELD_TO:
			if (fl->fld_data.fld_to)
				add_address_list(fl->fld_data.fld_to->to_addr_list,
				    &b->to, &b->nto);
			break;
		case MAILIMF_FIELD_CC:
			if (fl->fld_data.fld_cc)
				add_address_list(fl->fld_data.fld_cc->cc_addr_list,
				    &b->to, &b->nto);
			break;
		case MAILIMF_FIELD_SUBJECT:
			if (b->subject == NULL && fl->fld_data.fld_subject)
				b->subject = decode_words(
				    fl->fld_data.fld_subject->sbj_value);
			break;
		case MAILIMF_FIELD_MESSAGE_ID:
			if (b->message_id == NULL && fl->fld_data.fld_message_id)
				b->message_id = btext_clean(
				    fl->fld_data.fld_message_id->mid_value,
				    strlen(fl->fld_data.fld_message_id->mid_value),
				    400);
			break;
		case MAILIMF_FIELD_RETURN_PATH:
			if (fl->fld_data.fld_return_path &&
			    fl->fld_data.fld_return_path->ret_path &&
			    fl->fld_data.fld_return_path->ret_path->pt_addr_spec ==
			    NULL)
				h->null_return_path = true;
			break;
		case MAILIMF_FIELD_OPTIONAL_FIELD: {
			const char *name = fl->fld_data.fld_optional_field->fld_name;
			const char *val = fl->fld_data.fld_optional_field->fld_value;

			if (ascii_casecmp(name, "Delivered-To") == 0 ||
			    ascii_casecmp(name, "X-Original-To") == 0 ||
			    ascii_casecmp(name, "Envelope-To") == 0 ||
			    ascii_casecmp(name, "X-Envelope-To") == 0)
				btext_addrs(val, strlen(val), &b->to, &b->nto);
			else if (ascii_casecmp(name, "Auto-Submitted") == 0)
				keep(&h->auto_submitted, val);
			else if (ascii_casecmp(name, "Precedence") == 0 ||
			    ascii_casecmp(name, "X-Precedence") == 0)
				keep(&h->precedence, val);
			else if (ascii_casecmp(name, "X-Failed-Recipients") == 0)
				keep(&h->failed_rcpts, val);
			else if (ascii_casecmp(name, "X-Autoreply") == 0 ||
			    ascii_casecmp(name, "X-Autorespond") == 0 ||
			    ascii_casecmp(name, "X-Autoresponder") == 0 ||
			    ascii_casecmp(name, "X-Autogenerated") == 0 ||
			    ascii_casecmp(name, "X-Vacation") == 0 ||
			    ascii_casecmp(name, "X-AutoReply-From") == 0 ||
			    ascii_casecmp(name, "X-Mail-Autoreply") == 0)
				h->has_autoreply_hdr = true;
			else if (ascii_casecmp(name, "X-Autoreply-Type") == 0 ||
			    ascii_casecmp(name, "X-Auto-Response-Suppress") == 0)
				keep(&h->x_autoreply, val);
			else if (ascii_casecmp(name, "Return-Path") == 0 &&
			    strstr(val, "<>"))
				h->null_return_path = true;
			break;
		}
		default:
			break;
		}
	}
}

static void
hdrs_free(struct hdrs *h)
{
	free(h->auto_submitted);
	free(h->x_autoreply);
	free(h->precedence);
	free(h->failed_rcpts);
	free(h->from_display);
	free(h->content_type);
}

/* ------------------------------------------------------------------ */
/* field blocks (DSN, ARF): "Name: value" lines with folding */

/* "rfc822; <a@b>" -> a@b */
static char *
type_addr(const char *v)
{
	const char *semi = strchr(v, ';'), *p;
	size_t i, a, e, n;

	p = semi ? semi + 1 : v;
	n = strlen(p);
	for (i = 0; i < n; i++)
		if (p[i] == '@' && btext_addr_at(p, n, i, &a, &e))
			return xstrndup(p + a, e - a);
	return NULL;
}

struct dsn_rcpt {
	char	*final, *orig, *action, *status, *diag;
};
struct dsn {
	struct dsn_rcpt	*r;
	size_t		 n;
	bool		 open;	/* the current block has recipient fields */
};

static struct dsn_rcpt *
dsn_cur(struct dsn *d)
{
	if (!d->open) {
		if (d->n >= BTEXT_LIST_MAX)
			return NULL;
		d->r = xrealloc(d->r, (d->n + 1) * sizeof(*d->r));
		memset(&d->r[d->n], 0, sizeof(*d->r));
		d->n++;
		d->open = true;
	}
	return &d->r[d->n - 1];
}

static void
dsn_set(char **dst, const char *v)
{
	if (*dst == NULL)
		*dst = btext_clean(v, strlen(v), BTEXT_DIAG_MAX);
}

static void
dsn_field(void *arg, const char *name, const char *v)
{
	struct dsn *d = arg;
	struct dsn_rcpt *r;

	if (ascii_casecmp(name, "Final-Recipient") == 0 ||
	    ascii_casecmp(name, "Original-Recipient") == 0 ||
	    ascii_casecmp(name, "X-Actual-Recipient") == 0) {
		bool final = ascii_casecmp(name, "Final-Recipient") == 0;

		/* a second Final-Recipient without a blank line between */
		if (d->open && final && d->r[d->n - 1].final)
			d->open = false;
		if ((r = dsn_cur(d)) == NULL)
			return;
		if (final) {
			if (r->final == NULL)
				r->final = type_addr(v);
		} else if (r->orig == NULL)
			r->orig = type_addr(v);
	} else if (ascii_casecmp(name, "Action") == 0) {
		if ((r = dsn_cur(d)))
			dsn_set(&r->action, v);
	} else if (ascii_casecmp(name, "Status") == 0) {
		if ((r = dsn_cur(d)))
			dsn_set(&r->status, v);
	} else if (ascii_casecmp(name, "Diagnostic-Code") == 0 ||
	    ascii_casecmp(name, "X-Postfix-Diagnostic") == 0) {
		if ((r = dsn_cur(d)))
			dsn_set(&r->diag, v);
	}
}

static void
dsn_blank(void *arg)
{
	((struct dsn *)arg)->open = false;
}

static void
dsn_free(struct dsn *d)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		free(d->r[i].final);
		free(d->r[i].orig);
		free(d->r[i].action);
		free(d->r[i].status);
		free(d->r[i].diag);
	}
	free(d->r);
}

struct arf {
	char	*type;
	char	**rcpt;
	size_t	 nrcpt;
};

static void
arf_field(void *arg, const char *name, const char *v)
{
	struct arf *a = arg;

	if (ascii_casecmp(name, "Feedback-Type") == 0 && a->type == NULL)
		a->type = btext_clean(v, strlen(v), 64);
	else if (ascii_casecmp(name, "Original-Rcpt-To") == 0 ||
	    ascii_casecmp(name, "Removal-Recipient") == 0)
		btext_addrs(v, strlen(v), &a->rcpt, &a->nrcpt);
}

/* ------------------------------------------------------------------ */
/* the report's text */

static const char *const cut_marks[] = {
	"this is a copy of the message", "below this line is a copy of the message",
	"original message headers", "original message follows",
	"----- original message", "-----original message", "unsent message follows",
	"returned message follows", "header of the original message",
	"this is a copy of the headers", "content-type: message/rfc822",
	"--- message follows", "the original message was received",
	"original message ----", NULL
};

/*
 * Splits the text where the returned message begins: what follows goes to
 * the original headers, the text keeps the report.
 */
static void
cut_original(struct buf *text, struct buf *orig)
{
	size_t i = 0;

	while (i < text->len) {
		size_t e = i, k;

		while (e < text->len && text->data[e] != '\n')
			e++;
		for (k = 0; cut_marks[k]; k++) {
			size_t n = strlen(cut_marks[k]), j;

			for (j = i; j + n <= e; j++)
				if (ascii_ncasecmp(text->data + j,
				    cut_marks[k], n) == 0)
					break;
			if (j + n <= e)
				break;
		}
		if (cut_marks[k] && i > 0) {
			size_t rest = text->len - e;

			if (orig->len + rest <= PART_MAX)
				add_header_block(orig, text->data + e,
				    rest);
			text->len = i;
			text->data[i] = '\0';
			return;
		}
		i = e + 1;
	}
}

static char
permanence_hint(const char *t)
{
	static const char *const perm[] = { "permanent error", "permanently",
	    "permanent fatal", "fatal error", "could not be delivered",
	    "couldn't be delivered", "wasn't delivered", "was not delivered",
	    "undeliverable", "delivery has failed", "delivery failed",
	    "unable to deliver", "failed to deliver", "did not reach",
	    "was not delivered to", NULL };
	static const char *const temp[] = { "temporary", "will be retried",
	    "will retry", "still trying", "will continue", "not yet been delivered",
	    "delayed", "has not been delivered yet", "will keep trying",
	    "could not send message for past", NULL };

	if (btext_find_any(t, temp) && !btext_find_any(t, perm))
		return '4';
	if (btext_find_any(t, perm))
		return '5';
	return 0;
}

static const char *
text_format(const char *t, const char *from_display)
{
	if (btext_has(t, "this is the mail system at host"))
		return "postfix";
	if (btext_has(t, "created automatically by mail delivery software") ||
	    btext_has(t, "could not be delivered to one or more of its recipients"))
		return "exim";
	if (btext_has(t, "qmail-send program") || btext_has(t, "qmail-local"))
		return "qmail";
	if (btext_has(t, "diagnostic information for administrators") ||
	    btext_has(t, "delivery has failed to these recipients") ||
	    btext_has(t, "remote server returned"))
		return "exchange";
	if (btext_has(t, "unable to deliver your message to the following address") ||
	    btext_has(t, "yahoo"))
		return "yahoo";
	if (btext_has(t, "transcript of session follows") ||
	    btext_has(t, "had permanent fatal errors") ||
	    btext_has(t, "the original message was received at"))
		return "sendmail";
	if (btext_has(t, "delivery to the following recipient") ||
	    btext_has(t, "the response from the remote server was") ||
	    btext_has(t, "gmail") || btext_has(from_display, "mail delivery subsystem"))
		return "gmail";
	return "text";
}

/* ------------------------------------------------------------------ */
/* the verdicts */

static const char *const bounce_subjects[] = {
	"undeliver", "undelivered", "delivery status notification",
	"mail delivery failed", "delivery failure", "failure notice",
	"returned mail", "delivery failed", "non-delivery", "nondeliver",
	"non delivery", "could not be delivered", "not delivered",
	"delivery has failed", "delivery notification", "mail system error",
	"unzustellbar", "non remis", "non recapitabile", "onbestelbaar",
	"delayed mail", "delivery delayed", "warning: could not send",
	"returned to sender", "delivery problem", "message delivery",
	"mail delivery", "bounce", "no se puede entregar", "nicht zugestellt",
	"devolución", "olevererbart", "kézbesíthetetlen", NULL
};
static const char *const bounce_bodies[] = {
	"qmail-send program", "created automatically by mail delivery software",
	"a message that you sent could not be delivered",
	"delivery has failed to these recipients",
	"had permanent fatal errors", "delivery to the following recipient",
	"your message wasn't delivered", "your message couldn't be delivered",
	"your message could not be delivered", "i'm sorry to have to inform you",
	"unable to deliver your message", "this is the mail system at host",
	"could not be delivered", "undeliverable", "delivery failed",
	"unable to deliver", "message was not delivered",
	"returned to sender", "transcript of session follows", NULL
};
static const char *const auto_subjects[] = {
	"out of office", "out of the office", "automatic reply", "auto reply",
	"autoreply", "auto-reply", "auto response", "autoresponse",
	"auto-response", "automated response", "automatische antwort",
	"abwesenheit", "réponse automatique", "reponse automatique",
	"respuesta automática", "respuesta automatica", "risposta automatica",
	"resposta automática", "automatisch antwoord", "autosvar",
	"on vacation", "vacation", "away from the office", "away from my",
	"i am away", "i'm away", "absence", "ausser haus", "außer haus",
	"fuori ufficio", "congés", "poza biurem", NULL
};

static bool
robot_sender(const struct bounce *b, const struct hdrs *h)
{
	if (b->from && btext_is_robot(b->from, strlen(b->from)) &&
	    !btext_prefix(b->from, "noreply@") && !btext_prefix(b->from, "no-reply@"))
		return true;
	return btext_has(h->from_display, "mail delivery") ||
	    btext_has(h->from_display, "mailer-daemon") ||
	    btext_has(h->from_display, "mail administrator") ||
	    btext_has(h->from_display, "postmaster");
}

/* What auto-replies say in their first lines when their headers do not. */
static const char *const auto_bodies[] = {
	"out of the office", "out of office", "on vacation", "on holiday",
	"on annual leave", "on leave until", "away from the office",
	"i am away", "i'm away", "i will be away", "currently away",
	"this is an automated reply", "this is an automatic reply",
	"this is an automated response", "automatic reply",
	"auto-reply", "autoreply", "automated response",
	"abwesend", "nicht im büro", "ausser haus", "außer haus",
	"absent du bureau", "fuera de la oficina", "fuori ufficio", NULL
};

static bool
is_autoreply(const struct bounce *b, const struct hdrs *h, const char *t)
{
	if (h->has_autoreply_hdr)
		return true;
	if (h->auto_submitted && !btext_prefix(h->auto_submitted, "no"))
		return true;
	if (h->precedence && btext_has(h->precedence, "auto_reply"))
		return true;
	if (b->subject && (btext_find_any(b->subject, auto_subjects) ||
	    btext_prefix(b->subject, "auto:") || btext_prefix(b->subject, "ooo ") ||
	    btext_prefix(b->subject, "ooo:")))
		return true;
	/* the opening of the body, for the ones without such headers */
	if (t && *t) {
		char *head = xstrndup(t, 600);
		bool yes = btext_find_any(head, auto_bodies) != NULL;

		free(head);
		return yes;
	}
	return false;
}

/* The link token after "unsubscribe" in s: "<digits>.<24 base64url>". */
static char *
find_token(const char *s)
{
	const char *p;

	if (s == NULL)
		return NULL;
	for (p = s; *p; p++) {
		const char *q = p;
		size_t k;

		if (!(*p >= '0' && *p <= '9') || (p > s && p[-1] >= '0' &&
		    p[-1] <= '9'))
			continue;
		while (*q >= '0' && *q <= '9')
			q++;
		if (*q != '.' || q - p > 19)
			continue;
		for (k = 1; k <= 24; k++) {
			char c = q[k];

			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9') || c == '-' || c == '_'))
				break;
		}
		if (k == 25 && !(q[25] >= 'a' && q[25] <= 'z') &&
		    !(q[25] >= 'A' && q[25] <= 'Z') &&
		    !(q[25] >= '0' && q[25] <= '9') && q[25] != '-' && q[25] != '_')
			return xstrndup(p, (size_t)(q + 25 - p));
	}
	return NULL;
}

static bool
is_unsubscribe(struct bounce *b, const struct buf *text)
{
	const char *s = b->subject;
	const char *t = buf_cstr(text);

	while (s && (*s == ' ' || *s == '\t'))
		s++;
	if (s && btext_prefix(s, "unsubscribe")) {
		b->token = find_token(s);
		if (b->token == NULL)
			b->token = find_token(t);
		return true;
	}
	/* an empty subject and "unsubscribe" as the body's first line */
	if (s == NULL || *s == '\0') {
		while (*t == ' ' || *t == '\r' || *t == '\n' || *t == '\t')
			t++;
		if (btext_prefix(t, "unsubscribe")) {
			b->token = find_token(t);
			return true;
		}
	}
	return false;
}

static void
add_rcpt(struct bounce *b, const char *addr, enum bounce_kind k,
    const char *reason, const char *status, const char *diag)
{
	struct bounce_rcpt *r;
	size_t i;

	if (addr == NULL || b->nrcpt >= BTEXT_LIST_MAX)
		return;
	for (i = 0; i < b->nrcpt; i++)
		if (ascii_casecmp(b->rcpt[i].addr, addr) == 0)
			return;
	b->rcpt = xrealloc(b->rcpt, (b->nrcpt + 1) * sizeof(*b->rcpt));
	r = &b->rcpt[b->nrcpt++];
	r->addr = xstrdup(addr);
	r->kind = k;
	r->reason = reason;
	r->status = status ? xstrdup(status) : NULL;
	r->diag = diag ? xstrdup(diag) : NULL;
}

static void
set_verdict(struct bounce *b, enum bounce_kind k, const char *reason,
    const char *status, const char *diag)
{
	b->kind = k;
	b->reason = reason;
	free(b->status);
	free(b->diag);
	b->status = status ? xstrdup(status) : NULL;
	b->diag = diag ? xstrdup(diag) : NULL;
}

/* The DSN's verdict; false when it names no recipient. */
static bool
verdict_dsn(struct bounce *b, const struct walk *w, const char *text)
{
	struct btext_field_cb cb = { dsn_field, dsn_blank, NULL };
	struct dsn d = { 0 };
	size_t i;
	bool any = false, done = false, sender_phase;
	char *tctx;

	cb.arg = &d;
	btext_fields(w->dsn.data ? w->dsn.data : "", w->dsn.len, &cb);
	/* Exim's DSN does not say which command failed; its text does */
	tctx = btext_diag(text, strlen(text));
	sender_phase = tctx && (btext_has(tctx, "after mail from") ||
	    btext_has(tctx, ">>> mail from") ||
	    btext_has(tctx, "in reply to mail from"));
	free(tctx);
	for (i = 0; i < d.n; i++) {
		struct dsn_rcpt *r = &d.r[i];
		const char *addr = r->final ? r->final : r->orig;
		const char *reason = NULL;
		enum bounce_kind k;
		char st[16], dst[16], *stp = NULL;

		if (addr == NULL)
			continue;
		if (r->status && btext_status(r->status, st))
			stp = st;
		/* a generic x.0.0 status: the diagnostic's code says more */
		if (r->diag && btext_status(r->diag, dst) &&
		    (stp == NULL || (strcmp(stp + 1, ".0.0") == 0 &&
		    dst[0] == stp[0])))
			stp = dst;
		if (r->action && (btext_prefix(r->action, "delivered") ||
		    btext_prefix(r->action, "relayed") ||
		    btext_prefix(r->action, "expanded"))) {
			k = BOUNCE_NOTICE;
			reason = r->action && btext_prefix(r->action, "delivered") ?
			    "delivered" : "relayed";
		} else if (r->action && btext_prefix(r->action, "delayed")) {
			k = BOUNCE_SOFT;
			reason = "delivery delayed";
			if (stp == NULL || stp[0] != '4')
				stp = NULL;
		} else {
			if (r->status && r->status[0] == '2' && r->action == NULL) {
				k = BOUNCE_NOTICE;
				reason = "delivered";
			} else {
				k = bounce_classify(stp, r->diag, text,
				    stp ? 0 : '5', &reason);
				if (k == BOUNCE_HARD && sender_phase && d.n == 1) {
					k = BOUNCE_SOFT;
					reason = "sender rejected";
				}
				if (k == BOUNCE_UNKNOWN) {
					k = BOUNCE_SOFT;
					reason = "permanent failure, reason "
					    "not recognised";
				}
			}
		}
		add_rcpt(b, addr, k, reason, stp, r->diag);
		if (r->orig && r->final && ascii_casecmp(r->orig, r->final))
			add_rcpt(b, r->orig, k, reason, stp, r->diag);
		any = true;
		/* the message's verdict: the first failure, else the first */
		if (!done && (k == BOUNCE_HARD || (k == BOUNCE_SOFT &&
		    !(r->action && btext_prefix(r->action, "delayed"))))) {
			set_verdict(b, k, reason, stp, r->diag);
			done = true;
		} else if (b->kind == BOUNCE_UNKNOWN ||
		    (b->kind == BOUNCE_NOTICE && k == BOUNCE_SOFT && !done))
			set_verdict(b, k, reason, stp, r->diag);
	}
	dsn_free(&d);
	if (any)
		b->format = "dsn";
	return any;
}

static void
verdict_arf(struct bounce *b, const struct walk *w, const char *type)
{
	struct btext_field_cb cb = { arf_field, NULL, NULL };
	struct arf a = { 0 };
	size_t i;

	cb.arg = &a;
	if (w->arf.len)
		btext_fields(w->arf.data, w->arf.len, &cb);
	if (a.type && ascii_casecmp(a.type, "not-spam") == 0)
		set_verdict(b, BOUNCE_NOTICE, "not-spam report", NULL, NULL);
	else
		set_verdict(b, BOUNCE_COMPLAINT, "feedback loop", NULL, a.type);
	for (i = 0; i < a.nrcpt; i++)
		add_rcpt(b, a.rcpt[i], b->kind, b->reason, NULL, NULL);
	b->format = type;
	free(a.type);
	btext_list_free(a.rcpt, a.nrcpt);
}

/* A bounce read from its text. */
static void
verdict_text(struct bounce *b, const struct hdrs *h, const char *t,
    size_t tlen)
{
	char **addrs = NULL, st[16], *stp = NULL, *diag;
	size_t naddrs = 0, i;
	const char *reason = NULL;
	enum bounce_kind k;
	char hint;

	if (h->failed_rcpts)
		btext_addrs(h->failed_rcpts, strlen(h->failed_rcpts), &addrs,
		    &naddrs);
	btext_addrs(t, tlen, &addrs, &naddrs);
	diag = btext_diag(t, tlen);
	if (btext_status(diag, st) || btext_status(t, st))
		stp = st;
	hint = permanence_hint(t);
	k = bounce_classify(stp, diag, t, hint, &reason);
	set_verdict(b, k, reason, stp, diag);
	b->format = text_format(t, h->from_display);
	for (i = 0; i < naddrs; i++) {
		size_t j;
		bool own = b->from && ascii_casecmp(b->from, addrs[i]) == 0;

		for (j = 0; j < b->nto && !own; j++)
			own = ascii_casecmp(b->to[j], addrs[i]) == 0;
		if (!own)
			add_rcpt(b, addrs[i], k, reason, stp, diag);
	}
	free(diag);
	btext_list_free(addrs, naddrs);
}

/* The returned message's To (and Microsoft's X-HmXmrOriginalRecipient)
 * as the last recipients to try. */
static void
orig_rcpts(struct bounce *b, const struct walk *w)
{
	const char *s = w->orig.data;
	size_t i = 0, n = w->orig.len;

	while (s && i < n) {
		size_t e = i;

		while (e < n && s[e] != '\n')
			e++;
		if (btext_prefix(s + i, "to:") ||
		    btext_prefix(s + i, "x-hmxmroriginalrecipient:") ||
		    btext_prefix(s + i, "x-original-to:") ||
		    btext_prefix(s + i, "delivered-to:")) {
			char **v = NULL;
			size_t nv = 0, k;
			size_t end = e;

			/* folded continuation lines */
			while (end + 1 < n &&
			    (s[end + 1] == ' ' || s[end + 1] == '\t')) {
				end++;
				while (end < n && s[end] != '\n')
					end++;
			}
			btext_addrs(s + i, end - i, &v, &nv);
			for (k = 0; k < nv; k++)
				add_rcpt(b, v[k], b->kind, b->reason, b->status,
				    b->diag);
			btext_list_free(v, nv);
			e = end;
		}
		i = e + 1;
	}
}

void
bounce_parse(const char *msg, size_t len, struct bounce *b)
{
	struct mailmime *mime = NULL;
	char *copy = NULL;
	struct walk w;
	struct hdrs h;
	size_t idx = 0, hdr_end;
	const char *t;

	memset(b, 0, sizeof(*b));
	memset(&w, 0, sizeof(w));
	memset(&h, 0, sizeof(h));
	b->format = "none";
	if (len > BOUNCE_MAX_BYTES)
		len = BOUNCE_MAX_BYTES;
	if (msg == NULL || len == 0)
		return;

	/* VERP addresses anywhere, headers first since they come first */
	btext_verp(msg, len, &b->verp, &b->nverp);

	/*
	 * libetpan's decoders read a byte or two past the end of a part that
	 * ends in '=' (found by fuzz_bounce): parse a copy with zero padding,
	 * which every part's data points into.
	 */
	copy = xmalloc(len + PAD);
	memcpy(copy, msg, len);
	memset(copy + len, 0, PAD);
	/* a lone CR ends a line too (old Mac mail, some gateways): libetpan
	 * reads only LF and CRLF */
	for (hdr_end = 0; hdr_end < len; hdr_end++)
		if (copy[hdr_end] == '\r' && (hdr_end + 1 == len ||
		    copy[hdr_end + 1] != '\n'))
			copy[hdr_end] = '\n';
	msg = copy;
	if (mailmime_parse(msg, len, &idx, &mime) != MAILIMF_NO_ERROR ||
	    mime == NULL) {
		b->format = "unreadable";
		goto out;
	}
	if (mime->mm_type == MAILMIME_MESSAGE)
		read_headers(mime->mm_data.mm_message.mm_fields, b, &h);
	walk(&w, mime, 0, true);

	/* the decoded parts may hold VERP addresses the raw text hid */
	btext_verp(w.orig.data ? w.orig.data : "", w.orig.len, &b->verp,
	    &b->nverp);
	btext_verp(w.text.data ? w.text.data : "", w.text.len, &b->verp,
	    &b->nverp);
	btext_verp(w.dsn.data ? w.dsn.data : "", w.dsn.len, &b->verp,
	    &b->nverp);

	if (!w.saw_text && w.html.len && w.text.len == 0)
		buf_add(&w.text, w.html.data, w.html.len);
	/* a message with no MIME structure: its body is the text */
	if (w.text.len == 0 && w.dsn.len == 0 && w.arf.len == 0 &&
	    w.html.len == 0) {
		for (hdr_end = 0; hdr_end + 1 < len; hdr_end++)
			if (msg[hdr_end] == '\n' && (msg[hdr_end + 1] == '\n' ||
			    (msg[hdr_end + 1] == '\r' && hdr_end + 2 < len &&
			    msg[hdr_end + 2] == '\n')))
				break;
		if (hdr_end + 1 < len && len - hdr_end < PART_MAX)
			buf_add(&w.text, msg + hdr_end, len - hdr_end);
	}
	cut_original(&w.text, &w.orig);
	t = buf_cstr(&w.text);

	/* a DSN written as text (old Exchange, some appliances) */
	if (w.dsn.len == 0 && btext_has(t, "final-recipient:") &&
	    (btext_has(t, "status:") || btext_has(t, "action:")))
		buf_add(&w.dsn, w.text.data, w.text.len);

	if (w.dsn.len && verdict_dsn(b, &w, t)) {
		/* done */
	} else if (w.arf.len || w.report_arf)
		verdict_arf(b, &w, "arf");
	else if (b->subject &&
	    btext_prefix(b->subject, "complaint about message from"))
		verdict_arf(b, &w, "jmrp");
	else if (w.report_dsn || h.failed_rcpts || robot_sender(b, &h) ||
	    (b->subject && btext_find_any(b->subject, bounce_subjects) &&
	    (h.null_return_path || btext_find_any(t, bounce_bodies))))
		verdict_text(b, &h, t, w.text.len);
	else if (is_autoreply(b, &h, t)) {
		set_verdict(b, BOUNCE_AUTOREPLY, "auto-reply", NULL, NULL);
		b->format = "auto-reply";
	} else if (is_unsubscribe(b, &w.text)) {
		set_verdict(b, BOUNCE_UNSUBSCRIBE, "unsubscribe request", NULL,
		    NULL);
		b->format = "mailto";
	} else if (btext_find_any(t, bounce_bodies) || b->nverp > 0 ||
	    (b->subject && btext_find_any(b->subject, bounce_subjects)))
		verdict_text(b, &h, t, w.text.len);
	else
		b->format = "other";

	if (b->kind == BOUNCE_HARD || b->kind == BOUNCE_SOFT ||
	    b->kind == BOUNCE_COMPLAINT)
		orig_rcpts(b, &w);
out:
	if (mime)
		mailmime_free(mime);
	free(copy);
	hdrs_free(&h);
	buf_free(&w.dsn);
	buf_free(&w.arf);
	buf_free(&w.text);
	buf_free(&w.html);
	buf_free(&w.orig);
}

void
bounce_free(struct bounce *b)
{
	size_t i;

	if (b == NULL)
		return;
	for (i = 0; i < b->nrcpt; i++) {
		free(b->rcpt[i].addr);
		free(b->rcpt[i].status);
		free(b->rcpt[i].diag);
	}
	free(b->rcpt);
	btext_list_free(b->verp, b->nverp);
	btext_list_free(b->to, b->nto);
	free(b->status);
	free(b->diag);
	free(b->from);
	free(b->subject);
	free(b->message_id);
	free(b->token);
	memset(b, 0, sizeof(*b));
}

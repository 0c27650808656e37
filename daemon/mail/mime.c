/*
 * mime: one digest message, built with libetpan's IMF and MIME types and
 * written with mailmime_write_mem().
 *
 * The two bodies are quoted-printable encoded here (qp_encode) and handed to
 * libetpan as already-encoded data, with Content-Transfer-Encoding set by
 * mailmime_fields_new_encoding(): libetpan's own QP writer makes one
 * do_write call per input byte, and we also want '.' and "From " at line
 * starts encoded.  See docs/message.md for the measurements.
 *
 * libetpan has no RFC 2047 writer, so header.c makes the encoded-words; the
 * IMF writer folds them at spaces (72 columns).
 */
#include "mime.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <libetpan/libetpan.h>

#include "email.h"
#include "header.h"
#include "log.h"
#include "xmalloc.h"

#define NAME_MAX_BYTES		200	/* display names and list titles */
#define SUBJECT_MAX_BYTES	2000
#define URI_MAX			900
#define FEEDBACK_MAX		200
#define MSGID_MAX		250
#define QP_LINE			76	/* RFC 2045 6.7 (5), with the '=' */

/* Subject's first encoded-word fits after "Subject: " on the first line. */
#define SUBJECT_FIRST_WORD	(72 - 9 - 1)

static void *
etp(void *p)
{
	if (p == NULL)
		fatal("mime: out of memory in libetpan");
	return p;
}

/* ------------------------------------------------------------------ */
/* quoted-printable (RFC 2045 6.7) */

/*
 * Byte classes: QP_ENC must be =XX; QP_LIT may stand for itself; QP_WS is
 * SP or TAB (literal unless a line end follows); QP_LF and QP_CR.
 */
enum { QP_ENC = 0, QP_LIT, QP_WS, QP_LF, QP_CR };

static unsigned char qp_class[256];

static void
qp_init(void)
{
	int c;

	for (c = 33; c <= 126; c++)
		qp_class[c] = QP_LIT;
	qp_class['='] = QP_ENC;
	qp_class[' '] = qp_class['\t'] = QP_WS;
	qp_class['\n'] = QP_LF;
	qp_class['\r'] = QP_CR;
}

static const char qp_hex[] = "0123456789ABCDEF";

/* True when s[i] is followed by a line break or the end of the text. */
static inline bool
qp_at_eol(const unsigned char *s, size_t n, size_t i)
{
	return i + 1 == n || s[i + 1] == '\n' ||
	    (s[i + 1] == '\r' && i + 2 < n && s[i + 2] == '\n');
}

#define QP_MAXCOL	(QP_LINE - 1)	/* room for the soft break's '=' */

int
mime_qp_encode(struct buf *out, const char *text, size_t n)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	const unsigned char *s = (const unsigned char *)text;
	size_t i = 0, col = 0, worst;
	char *w;

	pthread_once(&once, qp_init);
	/* worst case: every byte =XX (3n) plus a soft break per 73 octets */
	if (n > (SIZE_MAX - 64) / 4)
		return -1;
	worst = n * 4 + 8;
	if (buf_grow(out, worst) == -1)
		return -1;
	w = out->data + out->len;
	while (i < n) {
		unsigned char c;
		bool enc;

		/* the common case: a run of plain characters */
		if (col > 0 || (s[i] != '.' && s[i] != 'F')) {
			size_t lim = n - i, k = 0;

			if (lim > QP_MAXCOL - col)
				lim = QP_MAXCOL - col;
			while (k < lim && qp_class[s[i + k]] == QP_LIT)
				k++;
			memcpy(w, s + i, k);
			w += k;
			col += k;
			i += k;
			if (i == n)
				break;
		}
		c = s[i];
		switch (qp_class[c]) {
		case QP_LF:
			*w++ = '\r';
			*w++ = '\n';
			col = 0;
			i++;
			continue;
		case QP_CR:
			if (i + 1 < n && s[i + 1] == '\n') {
				*w++ = '\r';
				*w++ = '\n';
				col = 0;
				i += 2;
				continue;
			}
			enc = true;
			break;
		case QP_WS:
			enc = qp_at_eol(s, n, i);
			break;
		case QP_LIT:
			enc = col == 0 && (c == '.' || (c == 'F' &&
			    n - i >= 5 && memcmp(s + i, "From ", 5) == 0));
			break;
		default:
			enc = true;
			break;
		}
		if (col + (enc ? 3 : 1) > QP_MAXCOL) {
			*w++ = '=';	/* soft line break */
			*w++ = '\r';
			*w++ = '\n';
			col = 0;
			continue;	/* look at c again at the line start */
		}
		if (enc) {
			*w++ = '=';
			*w++ = qp_hex[c >> 4];
			*w++ = qp_hex[c & 15];
			col += 3;
		} else {
			*w++ = (char)c;
			col++;
		}
		i++;
	}
	out->len = (size_t)(w - out->data);
	out->data[out->len] = '\0';
	return 0;
}

/* ------------------------------------------------------------------ */
/* ids */

static void
hex_append(char *dst, const unsigned char *src, size_t n)
{
	static const char hx[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		dst[2 * i] = hx[src[i] >> 4];
		dst[2 * i + 1] = hx[src[i] & 15];
	}
	dst[2 * n] = '\0';
}

char *
mime_message_id(const char *domain)
{
	unsigned char rnd[12];
	char hex[sizeof(rnd) * 2 + 1];

	if (gnutls_rnd(GNUTLS_RND_NONCE, rnd, sizeof(rnd)) != 0)
		fatal("mime: gnutls_rnd failed");
	hex_append(hex, rnd, sizeof(rnd));
	return xasprintf("<%llx.%s@%s>", (unsigned long long)time(NULL), hex,
	    domain && *domain ? domain : "localhost");
}

/* "<left@right>": printable ASCII, no space, no <>"\ inside, one '@'. */
static bool
msgid_ok(const char *id)
{
	size_t n = strlen(id), i, ats = 0;

	if (n < 5 || n > MSGID_MAX || id[0] != '<' || id[n - 1] != '>')
		return false;
	for (i = 1; i + 1 < n; i++) {
		unsigned char c = (unsigned char)id[i];

		if (c <= ' ' || c >= 0x7f || c == '<' || c == '>' ||
		    c == '"' || c == '\\' || c == '(' || c == ')' ||
		    c == ',' || c == ';' || c == ':' || c == '[' || c == ']')
			return false;
		if (c == '@')
			ats++;
	}
	return ats == 1 && id[1] != '@' && id[n - 2] != '@';
}

/* A URI for List-Unsubscribe: scheme prefix, printable ASCII, no <>" SP. */
static bool
uri_ok(const char *u, const char *const *schemes)
{
	size_t n = strlen(u), i;
	bool scheme = false;

	for (i = 0; schemes[i]; i++)
		if (strncmp(u, schemes[i], strlen(schemes[i])) == 0 &&
		    n > strlen(schemes[i]))
			scheme = true;
	if (!scheme || n > URI_MAX)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)u[i];

		if (c <= ' ' || c >= 0x7f || c == '<' || c == '>' ||
		    c == '"' || c == '\\')
			return false;
	}
	return true;
}

/* A list-id (RFC 2919): dot-atom-text, at most 255 octets. */
static bool
listid_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 255 || s[0] == '.' || s[n - 1] == '.')
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (s[i + 1] == '.')
				return false;
		} else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') ||
		    (c && strchr("!#$%&'*+-/=?^_`{|}~", c))))
			return false;
	}
	return true;
}

/* ------------------------------------------------------------------ */
/* headers */

/*
 * A mailbox for From/To.  Returns a libetpan mailbox, or NULL with *custom
 * set to a field value when the name needs several encoded-words (which
 * libetpan's mailbox writer would put inside a quoted-string, where RFC
 * 2047 does not apply).
 */
static struct mailimf_mailbox *
make_mailbox(const char *name, const char *addr, char **custom)
{
	char *clean, *phrase, *dn = NULL;
	size_t words = 0;

	*custom = NULL;
	clean = header_clean(name, NAME_MAX_BYTES);
	if (*clean != '\0') {
		if (header_phrase_ascii(clean)) {
			/* libetpan writes atoms as they are, else quotes */
			dn = clean;
			clean = NULL;
		} else {
			phrase = header_phrase(clean, &words);
			if (words == 1)
				dn = phrase;
			else {
				*custom = xasprintf("%s <%s>", phrase, addr);
				free(phrase);
			}
		}
	}
	free(clean);
	if (*custom)
		return NULL;
	return etp(mailimf_mailbox_new(dn, xstrdup(addr)));
}

static void
add_custom(struct mailimf_fields *f, const char *name, char *value)
{
	struct mailimf_field *fld;

	fld = etp(mailimf_field_new_custom(xstrdup(name), value));
	if (mailimf_fields_add(f, fld) != MAILIMF_NO_ERROR)
		fatal("mime: out of memory in libetpan");
}

static void
add_data(struct mailimf_fields *f, struct mailimf_date_time *date,
    struct mailimf_mailbox_list *from, struct mailimf_address_list *reply_to,
    struct mailimf_address_list *to, char *msgid, char *subject)
{
	if (mailimf_fields_add_data(f, date, from, NULL, reply_to, to, NULL,
	    NULL, msgid, NULL, NULL, subject) != MAILIMF_NO_ERROR)
		fatal("mime: out of memory in libetpan");
}

static void
add_mailbox_field(struct mailimf_fields *f, const char *fname,
    const char *name, const char *addr)
{
	struct mailimf_mailbox *mb;
	char *custom;

	mb = make_mailbox(name, addr, &custom);
	if (mb == NULL) {
		add_custom(f, fname, custom);
		return;
	}
	if (strcmp(fname, "From") == 0) {
		struct mailimf_mailbox_list *l;

		l = etp(mailimf_mailbox_list_new_empty());
		if (mailimf_mailbox_list_add(l, mb) != MAILIMF_NO_ERROR)
			fatal("mime: out of memory in libetpan");
		add_data(f, NULL, l, NULL, NULL, NULL, NULL);
	} else {
		struct mailimf_address_list *l;
		struct mailimf_address *a;

		l = etp(mailimf_address_list_new_empty());
		a = etp(mailimf_address_new(MAILIMF_ADDRESS_MAILBOX, mb, NULL));
		if (mailimf_address_list_add(l, a) != MAILIMF_NO_ERROR)
			fatal("mime: out of memory in libetpan");
		if (strcmp(fname, "To") == 0)
			add_data(f, NULL, NULL, NULL, l, NULL, NULL);
		else
			add_data(f, NULL, NULL, l, NULL, NULL, NULL);
	}
}

/* "Title <id.domain>" or "id.domain" into List-Id's value. */
static int
list_id_value(const char *in, char **value, char **err)
{
	const char *lt = strrchr(in, '<');
	size_t n = strlen(in);
	char *title, *phrase;

	if (lt == NULL) {
		if (!listid_ok(in, n)) {
			*err = xasprintf("bad List-Id \"%s\"", in);
			return -1;
		}
		*value = xasprintf("<%s>", in);
		return 0;
	}
	if (n == 0 || in[n - 1] != '>' ||
	    !listid_ok(lt + 1, (size_t)(in + n - 1 - (lt + 1)))) {
		*err = xstrdup("bad List-Id: expected \"Title <id.domain>\"");
		return -1;
	}
	{
		char *t = xstrndup(in, (size_t)(lt - in));

		title = header_clean(t, NAME_MAX_BYTES);
		free(t);
	}
	if (*title == '\0')
		*value = xstrdup(lt);
	else {
		phrase = header_phrase(title, NULL);
		*value = xasprintf("%s %s", phrase, lt);
		free(phrase);
	}
	free(title);
	return 0;
}

static char *
domain_of(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return xstrdup(at ? at + 1 : "localhost");
}

/* ------------------------------------------------------------------ */
/* the body */

/*
 * The body placeholders libetpan writes in place of the encoded bodies.
 * \001 cannot occur in any header we write (header_clean() removes
 * controls), so the first match is the placeholder.
 */
#define MARK_TEXT	"\001herald-text\001"
#define MARK_HTML	"\001herald-html\001"

static struct mailmime *
text_part(const char *subtype, const char *mark)
{
	struct mailmime_content *ct;
	struct mailmime_parameter *param;
	struct mailmime_fields *mf;
	struct mailmime *part;
	struct mailmime_data *data;

	ct = etp(mailmime_content_new_with_str(subtype));
	param = etp(mailmime_param_new_with_data("charset", "UTF-8"));
	if (clist_append(ct->ct_parameters, param) != 0)
		fatal("mime: out of memory in libetpan");
	mf = etp(mailmime_fields_new_encoding(
	    MAILMIME_MECHANISM_QUOTED_PRINTABLE));
	part = etp(mailmime_new_empty(ct, mf));
	/* already encoded: libetpan copies it out as it is */
	data = etp(mailmime_data_new(MAILMIME_DATA_TEXT,
	    MAILMIME_MECHANISM_QUOTED_PRINTABLE, 1, mark, strlen(mark), NULL));
	part->mm_data.mm_single = data;
	return part;
}

/*
 * "=_" cannot occur in quoted-printable output ('=' is always followed by
 * two hex digits or a line break), so no body line can look like the
 * boundary.
 */
static struct mailmime *
alternative_part(void)
{
	unsigned char rnd[12];
	char hex[sizeof(rnd) * 2 + 1];
	struct mailmime_content *ct;
	struct mailmime *mp;
	clistiter *it;
	bool set = false;

	if (gnutls_rnd(GNUTLS_RND_NONCE, rnd, sizeof(rnd)) != 0)
		fatal("mime: gnutls_rnd failed");
	hex_append(hex, rnd, sizeof(rnd));
	ct = etp(mailmime_content_new_with_str("multipart/alternative"));
	/* mailmime_new_empty() adds a boundary parameter of its own making
	 * (time, random(), pid): give it ours */
	mp = etp(mailmime_new_empty(ct, etp(mailmime_fields_new_empty())));
	for (it = clist_begin(ct->ct_parameters); it; it = clist_next(it)) {
		struct mailmime_parameter *pa = clist_content(it);

		if (strcasecmp(pa->pa_name, "boundary") == 0) {
			free(pa->pa_value);
			pa->pa_value = xasprintf("=_herald_%s", hex);
			set = true;
		}
	}
	if (!set) {
		char *b = xasprintf("=_herald_%s", hex);

		if (clist_append(ct->ct_parameters, etp(
		    mailmime_param_new_with_data("boundary", b))) != 0)
			fatal("mime: out of memory in libetpan");
		free(b);
	}
	return mp;
}

/* ------------------------------------------------------------------ */

static int
check_params(const struct mime_params *p, char **err)
{
	static const char *const mailto[] = { "mailto:", NULL };
	static const char *const web[] = { "https://", "http://", NULL };
	const char *why = NULL;
	char *to = NULL;

	if (!header_addr_ok(p->from_addr, &why)) {
		*err = xasprintf("From address \"%s\": %s",
		    p->from_addr ? p->from_addr : "", why);
		return -1;
	}
	if (p->to_addr == NULL || (to = email_to_ascii(p->to_addr,
	    &why)) == NULL || !header_addr_ok(to, &why)) {
		*err = xasprintf("To address \"%s\": %s",
		    p->to_addr ? p->to_addr : "", why);
		free(to);
		return -1;
	}
	free(to);
	if (p->reply_to) {
		char *name = NULL, *addr = NULL;
		bool ok = email_mailbox_parse(p->reply_to, &name, &addr,
		    &why) == 0 && header_addr_ok(addr, &why);

		free(name);
		free(addr);
		if (!ok) {
			*err = xasprintf("Reply-To address \"%s\": %s",
			    p->reply_to, why);
			return -1;
		}
	}
	if (p->message_id && !msgid_ok(p->message_id)) {
		*err = xasprintf("bad Message-ID \"%s\"", p->message_id);
		return -1;
	}
	if (p->list_unsubscribe_mailto &&
	    !uri_ok(p->list_unsubscribe_mailto, mailto)) {
		*err = xstrdup("bad List-Unsubscribe mailto: URI");
		return -1;
	}
	if (p->list_unsubscribe_https &&
	    !uri_ok(p->list_unsubscribe_https, web)) {
		*err = xstrdup("bad List-Unsubscribe https: URI");
		return -1;
	}
	if (p->list_unsubscribe_https && !p->list_unsubscribe_mailto) {
		/* fine: RFC 8058 needs only the https one */
	}
	if ((p->text == NULL && p->text_len) || (p->html == NULL && p->html_len)) {
		*err = xstrdup("body pointer is NULL");
		return -1;
	}
	return 0;
}

static struct mailimf_fields *
make_fields(const struct mime_params *p, char **err)
{
	struct mailimf_fields *f;
	struct mailimf_date_time *dt;
	struct tm tm;
	time_t when = p->date ? p->date : time(NULL);
	char *s, *subject, *msgid, *v;
	const char *why;

	f = etp(mailimf_fields_new_empty());
	add_mailbox_field(f, "From", p->from_name, p->from_addr);
	/* an IDN domain in its IDNA form, as on the envelope (checked) */
	s = email_to_ascii(p->to_addr, &why);
	add_mailbox_field(f, "To", p->to_name, s ? s : p->to_addr);
	free(s);

	s = header_clean(p->subject, SUBJECT_MAX_BYTES);
	subject = header_text(s, SUBJECT_FIRST_WORD);
	free(s);
	add_data(f, NULL, NULL, NULL, NULL, NULL, subject);

	if (gmtime_r(&when, &tm) == NULL) {
		*err = xstrdup("bad Date");
		mailimf_fields_free(f);
		return NULL;
	}
	dt = etp(mailimf_date_time_new(tm.tm_mday, tm.tm_mon + 1,
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec, 0));
	add_data(f, dt, NULL, NULL, NULL, NULL, NULL);

	if (p->message_id) {
		size_t n = strlen(p->message_id);

		msgid = xstrndup(p->message_id + 1, n - 2);
	} else {
		char *dom = domain_of(p->from_addr), *full;

		full = mime_message_id(dom);
		msgid = xstrndup(full + 1, strlen(full) - 2);
		free(full);
		free(dom);
	}
	add_data(f, NULL, NULL, NULL, NULL, msgid, NULL);

	if (p->reply_to) {
		char *name = NULL, *addr = NULL;

		/* checked by check_params: "Name <addr>" or addr */
		if (email_mailbox_parse(p->reply_to, &name, &addr, &why) == 0)
			add_mailbox_field(f, "Reply-To", name, addr);
		free(name);
		free(addr);
	}

	if (p->list_id) {
		if (list_id_value(p->list_id, &v, err) == -1) {
			mailimf_fields_free(f);
			return NULL;
		}
		add_custom(f, "List-Id", v);
	}
	if (p->list_unsubscribe_mailto || p->list_unsubscribe_https) {
		if (p->list_unsubscribe_mailto && p->list_unsubscribe_https)
			v = xasprintf("<%s>, <%s>", p->list_unsubscribe_https,
			    p->list_unsubscribe_mailto);
		else
			v = xasprintf("<%s>", p->list_unsubscribe_mailto ?
			    p->list_unsubscribe_mailto :
			    p->list_unsubscribe_https);
		add_custom(f, "List-Unsubscribe", v);
		if (p->list_unsubscribe_https)
			add_custom(f, "List-Unsubscribe-Post",
			    xstrdup("List-Unsubscribe=One-Click"));
	}
	if (p->feedback_id) {
		/* printable ASCII without spaces: "a:b:c:SenderId" */
		char *fb = header_clean(p->feedback_id, FEEDBACK_MAX), *q, *r;

		for (q = r = fb; *q; q++)
			if ((unsigned char)*q > ' ' && (unsigned char)*q < 0x7f)
				*r++ = *q;
		*r = '\0';
		if (*fb)
			add_custom(f, "Feedback-ID", fb);
		else
			free(fb);
	}
	return f;
}

/*
 * Scratch space kept between calls (per thread): fresh 20-80 KB buffers
 * for every message cost more in page faults than the encoding itself.
 */
static _Thread_local struct buf scratch_text, scratch_html;
static _Thread_local MMAPString *scratch_out;

#define SCRATCH_KEEP	(1024 * 1024)	/* give back more than this */

/* A thread that built messages (the sender's builder) frees them on exit. */
static pthread_key_t scratch_key;

static void
scratch_free(void *unused)
{
	(void)unused;
	buf_free(&scratch_text);
	buf_free(&scratch_html);
	if (scratch_out != NULL) {
		mmap_string_free(scratch_out);
		scratch_out = NULL;
	}
}

static void
scratch_key_init(void)
{
	if (pthread_key_create(&scratch_key, scratch_free) != 0)
		fatal("mime: pthread_key_create failed");
}

static MMAPString *
scratch_new(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, scratch_key_init);
	/* any non-NULL value: the destructor runs when the thread exits */
	pthread_setspecific(scratch_key, &scratch_out);
	return etp(mmap_string_sized_new(65536));
}

int
mime_build(const struct mime_params *p, struct buf *out, char **err)
{
	struct mailimf_fields *fields = NULL;
	struct mailmime *msg = NULL, *alt, *part;
	struct buf *qt = &scratch_text, *qh = &scratch_html;
	MMAPString *s;
	const char *mt, *mh;
	size_t out_len = out->len;
	int col = 0, rc = -1;

	*err = NULL;
	if (check_params(p, err) == -1)
		return -1;
	buf_reset(qt);
	buf_reset(qh);
	if (scratch_out == NULL)
		scratch_out = scratch_new();
	s = scratch_out;
	etp(mmap_string_truncate(s, 0));
	if (mime_qp_encode(qt, p->text, p->text_len) == -1 ||
	    mime_qp_encode(qh, p->html, p->html_len) == -1) {
		*err = xstrdup("body too large");
		goto out;
	}
	fields = make_fields(p, err);
	if (fields == NULL)
		goto out;

	msg = etp(mailmime_new_message_data(NULL));
	mailmime_set_imf_fields(msg, fields);
	fields = NULL;			/* msg owns them now */
	alt = alternative_part();
	if (mailmime_smart_add_part(msg, alt) != MAILIMF_NO_ERROR)
		fatal("mime: cannot add the multipart");
	part = text_part("text/plain", MARK_TEXT);
	if (mailmime_smart_add_part(alt, part) != MAILIMF_NO_ERROR)
		fatal("mime: cannot add the text part");
	part = text_part("text/html", MARK_HTML);
	if (mailmime_smart_add_part(alt, part) != MAILIMF_NO_ERROR)
		fatal("mime: cannot add the html part");

	if (mailmime_write_mem(s, &col, msg) != MAILIMF_NO_ERROR) {
		*err = xstrdup("libetpan could not write the message");
		goto out;
	}
	/* splice the encoded bodies in where libetpan wrote the marks */
	mt = memmem(s->str, s->len, MARK_TEXT, sizeof(MARK_TEXT) - 1);
	mh = mt ? memmem(mt, s->len - (size_t)(mt - s->str), MARK_HTML,
	    sizeof(MARK_HTML) - 1) : NULL;
	if (mh == NULL)
		fatal("mime: body placeholder lost");
	if (buf_grow(out, s->len + qt->len + qh->len) == -1 ||
	    buf_add(out, s->str, (size_t)(mt - s->str)) == -1 ||
	    buf_add(out, qt->data, qt->len) == -1 ||
	    buf_add(out, mt + sizeof(MARK_TEXT) - 1,
	    (size_t)(mh - mt) - (sizeof(MARK_TEXT) - 1)) == -1 ||
	    buf_add(out, qh->data, qh->len) == -1 ||
	    buf_add(out, mh + sizeof(MARK_HTML) - 1,
	    s->len - (size_t)(mh - s->str) - (sizeof(MARK_HTML) - 1)) == -1) {
		out->len = out_len;
		if (out->data)
			out->data[out_len] = '\0';
		*err = xstrdup("message larger than the output limit");
		goto out;
	}
	rc = 0;
out:
	if (msg)
		mailmime_free(msg);
	if (fields)
		mailimf_fields_free(fields);
	if (qt->cap > SCRATCH_KEEP)
		buf_free(qt);
	if (qh->cap > SCRATCH_KEEP)
		buf_free(qh);
	if (s->allocated_len > SCRATCH_KEEP) {
		mmap_string_free(s);
		scratch_out = NULL;
	}
	return rc;
}

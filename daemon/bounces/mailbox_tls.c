/*
 * mailbox_tls: checks the certificate of an imaps:// or pop3s:// server.
 *
 * libetpan's TLS connect does not verify the peer, so a mailbox password
 * would go to whoever answers.  After the handshake this takes the chain
 * the server sent (mailstream_get_certificate_chain) and verifies it with
 * GnuTLS against the system's trusted CAs, plus the PEM file named by
 * $SSL_CERT_FILE when set (a private CA or a self-signed server), and that
 * it names the host (RFC 6125; an IP address against its IP SAN).
 */
#include "mailbox_impl.h"

#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <libetpan/libetpan.h>

#include "xmalloc.h"

#define CHAIN_MAX	16

void
mailbox_tls_sni(struct mailstream_ssl_context *ctx, void *host)
{
	(void)mailstream_ssl_set_server_name(ctx, host);
}

int
mailbox_tls_verify(struct mailbox *mb, mailstream *s, char **err)
{
	gnutls_x509_crt_t certs[CHAIN_MAX];
	gnutls_x509_trust_list_t tl = NULL;
	gnutls_typed_vdata_st vd;
	gnutls_datum_t why = { NULL, 0 };
	carray *chain;
	unsigned n = 0, i, status = 0;
	const char *extra = getenv("SSL_CERT_FILE");
	int rc = -1;

	chain = s ? mailstream_get_certificate_chain(s) : NULL;
	if (chain == NULL || carray_count(chain) == 0) {
		*err = xasprintf("%s: the server sent no certificate", mb->host);
		goto out;
	}
	for (i = 0; i < carray_count(chain) && n < CHAIN_MAX; i++) {
		MMAPString *der = carray_get(chain, i);
		gnutls_datum_t d = { (unsigned char *)der->str, (unsigned)der->len };

		if (gnutls_x509_crt_init(&certs[n]) < 0)
			break;
		if (gnutls_x509_crt_import(certs[n], &d, GNUTLS_X509_FMT_DER) < 0) {
			gnutls_x509_crt_deinit(certs[n]);
			*err = xasprintf("%s: cannot read the server's certificate",
			    mb->host);
			goto out;
		}
		n++;
	}
	if (gnutls_x509_trust_list_init(&tl, 0) < 0 ||
	    gnutls_x509_trust_list_add_system_trust(tl, 0, 0) < 0) {
		*err = xasprintf("%s: cannot load the system's trusted CAs",
		    mb->host);
		goto out;
	}
	if (extra && *extra && gnutls_x509_trust_list_add_trust_file(tl,
	    extra, NULL, GNUTLS_X509_FMT_PEM, 0, 0) < 0) {
		*err = xasprintf("%s: cannot read SSL_CERT_FILE %s", mb->host,
		    extra);
		goto out;
	}
	memset(&vd, 0, sizeof(vd));
	vd.type = GNUTLS_DT_DNS_HOSTNAME;
	vd.data = (unsigned char *)mb->host;
	if (gnutls_x509_trust_list_verify_crt2(tl, certs, n, &vd, 1, 0,
	    &status, NULL) < 0 || status != 0) {
		if (gnutls_certificate_verification_status_print(status,
		    GNUTLS_CRT_X509, &why, 0) < 0)
			why.data = NULL;
		*err = xasprintf("%s: the server's certificate is not trusted: "
		    "%s (a private CA: set SSL_CERT_FILE to its PEM file)",
		    mb->host, why.data ? (char *)why.data : "verification failed");
		goto out;
	}
	rc = 0;
out:
	gnutls_free(why.data);
	for (i = 0; i < n; i++)
		gnutls_x509_crt_deinit(certs[i]);
	if (tl)
		gnutls_x509_trust_list_deinit(tl, 1);
	if (chain)
		mailstream_certificate_chain_free(chain);
	return rc;
}

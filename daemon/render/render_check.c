/* Placeholder until the template engine lands. */
#include "render.h"

int
render_check_templates(const struct config *cfg,
    const struct newsletter_conf *nl, struct diags *d)
{
	(void)cfg;
	(void)nl;
	(void)d;
	return 0;
}

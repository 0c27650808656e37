/*
 * Fuzz target: the config loader (YAML parsing and every validator) over
 * arbitrary bytes.  Whatever the input, it must not crash, leak or hang,
 * and a config it accepts must be fully usable.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diags d = { 0 };
	struct config *cfg;
	size_t i;

	cfg = config_load_mem("fuzz.yml", "/tmp", (const char *)data, size,
	    &d);
	if (cfg) {
		for (i = 0; i < cfg->nnewsletters; i++) {
			const struct newsletter_conf *nl = &cfg->newsletters[i];
			char *words = schedule_describe(&nl->schedule,
			    nl->schedule_text);

			(void)schedule_next(&nl->schedule, nl->timezone,
			    (time_t)1790000000);
			free(words);
		}
	}
	config_free(cfg);
	diags_free(&d);
	return 0;
}

/*
 * Must not compile: the store is below the render stage, so render.h is not
 * on the store's include path (tests/CMakeLists.txt, test layering/upward).
 */
#include "render.h"

int	layering_probe(void);

int
layering_probe(void)
{
	return 0;
}

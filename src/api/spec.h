/* spec.h - the OpenAPI 3 document of the API, docs/openapi.json, compiled
 * in by the Makefile (build/gen/openapi.c) so the binary serves exactly
 * what the tree documents. */
#ifndef ECS_API_SPEC_H
#define ECS_API_SPEC_H

extern const char api_openapi_json[];

#endif

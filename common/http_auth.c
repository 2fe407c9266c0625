/* http_auth.c — see http_auth.h. */
#include "http_auth.h"

#include <stddef.h>
#include <string.h>

bool http_bearer_ok(const char *token, const char *auth) {
    if (!token || !*token)
        return true;
    static const char prefix[] = "Bearer ";
    if (!auth || strncmp(auth, prefix, sizeof prefix - 1) != 0)
        return false;
    const char *given = auth + sizeof prefix - 1;
    size_t tl = strlen(token), gl = strlen(given);
    /* constant time in the position of the first difference */
    unsigned char diff = (unsigned char)(tl != gl);
    for (size_t i = 0; i < tl; i++)
        diff |= (unsigned char)(token[i] ^ (i < gl ? given[i] : 0));
    return diff == 0;
}

/* auth.h — authorization of an authenticated connection: the rights of its
 * shared access policy (Send, Listen, Manage) and its EntityPath scope.
 * Returns Kafka error codes because every caller is encoding a response. */
#ifndef EDDY_FE_AUTH_H
#define EDDY_FE_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "fe.h"

/** True when the connection may see @p topic at all (EntityPath scope). */
bool fe_auth_topic_visible(const fe_conn *c, const char *topic);
/** 0, or TOPIC_AUTHORIZATION_FAILED when @p right or the scope is missing. */
int16_t fe_auth_topic(const fe_conn *c, unsigned right, const char *topic, size_t len);
/** 0, or GROUP_AUTHORIZATION_FAILED (groups need Listen). */
int16_t fe_auth_group(const fe_conn *c);
/** 0, or CLUSTER_AUTHORIZATION_FAILED when @p right is missing. */
int16_t fe_auth_cluster(const fe_conn *c, unsigned right);

#endif

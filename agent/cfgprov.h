/* cfgprov.h: Kafka's config providers (config.providers with FileConfigProvider, EnvVarConfigProvider and
 * DirectoryConfigProvider): ${provider:[path:]key} in config values, resolved at start, never written back. */
#ifndef WALCAST_CFGPROV_H
#define WALCAST_CFGPROV_H

#include <stddef.h>

#include "agent/config.h"

/* Replaces every ${provider:[path:]key} in the values of m, with the providers the worker config pm
 * declares (pm may be m itself: a worker config resolves its own values, as Kafka's AbstractConfig does):
 *   config.providers=NAME,...                         (split at ',' as given, like Kafka: no trimming)
 *   config.providers.NAME.class=org.apache.kafka.common.config.provider.FileConfigProvider
 *                               | ...EnvVarConfigProvider | ...DirectoryConfigProvider
 *   config.providers.NAME.param.allowed.paths=/abs,... (file, dir)   .param.allowlist.pattern=REGEX (env)
 * ${file:/path/x.properties:key} is key in that Java properties file, ${env:VAR} the environment variable,
 * ${dir:/path:name} the whole content of the regular file name in that directory. As Kafka's
 * ConfigTransformer: one pass; a variable of a provider that is not declared, or whose key the provider
 * does not have (or a path outside allowed.paths), is left as written; a name in config.providers
 * without a .class is ignored. Those are logged as warnings naming the config key and the variable, never
 * a value. Returns -1 with err (naming key, provider and path, never a value) when a provider fails:
 * an unknown class, an unreadable file or directory, a path given to env, a bad allowed.paths or
 * allowlist.pattern. Values are replaced in m: resolve a copy where the written form is kept (the REST
 * API's config, the config topic). */
int cfgprov_resolve(const cfg_map_t *pm, cfg_map_t *m, char *err, size_t errlen);

#endif

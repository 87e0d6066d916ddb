/* SPDX-License-Identifier: BSD-3-Clause */
/* sshnpd's client public key cache (--strict, --clear-cached-pks): a key is pinned on first
 * use and survives a restart; a changed key is refused under strict and replaces the old one
 * otherwise; hostile cache files are ignored, never followed or trusted. */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cached_pks.h"
#include "rsa.h"
#include "tests.h"

static char dir[] = "/tmp/test-cached-pks.XXXXXX";
static char cache[4096];
static char *key1, *key2;

static char *new_key(void) {
        _cleanup_(at_rsa_private_freep) AtRsaPrivate *priv = NULL;
        _cleanup_(at_rsa_public_freep) AtRsaPublic *pub = NULL;
        char *b64 = NULL;

        ASSERT_OK(at_rsa_generate(2048, &priv));
        ASSERT_OK(at_rsa_private_get_public(priv, &pub));
        ASSERT_OK(at_rsa_public_to_base64(pub, &b64));
        return b64;
}

static void write_raw(const char *name, const char *text) {
        char path[8192];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", cache, name);
        ASSERT_TRUE((f = fopen(path, "w")));
        fputs(text, f);
        ASSERT_TRUE(fclose(f) == 0);
}

static CachedPkState check(const char *atsign, const char *key, bool strict) {
        CachedPkState state;
        int store_error;

        ASSERT_OK(cached_pks_check(cache, atsign, key, strict, &state, &store_error));
        ASSERT_OK(store_error);
        return state;
}

TEST(first_use_pins_the_key_in_a_private_file) {
        char path[8192], *loaded = NULL;
        struct stat st;

        ASSERT_TRUE(check("@alice", key1, true) == CACHED_PK_NEW);
        snprintf(path, sizeof(path), "%s/alice", cache);
        ASSERT_OK(stat(path, &st) < 0 ? -errno : 0);
        ASSERT_TRUE((st.st_mode & 0777) == 0600);
        ASSERT_OK(stat(cache, &st) < 0 ? -errno : 0);
        ASSERT_TRUE((st.st_mode & 0077) == 0);
        /* as a restarted daemon sees it */
        ASSERT_OK(cached_pks_load(cache, "@alice", &loaded));
        ASSERT_STREQ(loaded, key1);
        free(loaded);
        ASSERT_TRUE(check("@alice", key1, true) == CACHED_PK_SAME);
}

TEST(strict_refuses_a_changed_key_and_keeps_the_old_one) {
        char *loaded = NULL;

        ASSERT_TRUE(check("@alice", key2, true) == CACHED_PK_CHANGED);
        ASSERT_TRUE(check("@alice", key2, true) == CACHED_PK_CHANGED); /* still refused */
        ASSERT_OK(cached_pks_load(cache, "@alice", &loaded));
        ASSERT_STREQ(loaded, key1);
        free(loaded);
}

TEST(non_strict_accepts_a_changed_key_and_replaces_it) {
        ASSERT_TRUE(check("@alice", key2, false) == CACHED_PK_CHANGED);
        ASSERT_TRUE(check("@alice", key2, true) == CACHED_PK_SAME);
        ASSERT_TRUE(check("@alice", key1, true) == CACHED_PK_CHANGED);
}

TEST(clear_forgets_every_key) {
        char *loaded = NULL;

        ASSERT_TRUE(check("@bob", key1, true) == CACHED_PK_NEW);
        ASSERT_TRUE(cached_pks_clear(cache) == 2);
        ASSERT_OK(cached_pks_load(cache, "@alice", &loaded));
        ASSERT_TRUE(loaded == NULL);
        ASSERT_TRUE(check("@alice", key1, true) == CACHED_PK_NEW);
        ASSERT_TRUE(cached_pks_clear("/nonexistent/cached_pks") == 0);
}

TEST(a_dart_client_file_is_read) {
        char *loaded = NULL, text[4096];

        snprintf(text, sizeof(text), "%s\n", key2);
        write_raw("carol", text);
        ASSERT_OK(cached_pks_load(cache, "@carol", &loaded));
        ASSERT_STREQ(loaded, key2);
        free(loaded);
}

TEST(hostile_cache_files_count_as_no_key) {
        char path[8192], *loaded = NULL, *big;

        /* garbage: not trusted, replaced by the signer's current key */
        write_raw("mallory", "not a key\n");
        ASSERT_OK(cached_pks_load(cache, "@mallory", &loaded));
        ASSERT_TRUE(loaded == NULL);
        ASSERT_TRUE(check("@mallory", key1, true) == CACHED_PK_NEW);
        /* too big */
        ASSERT_TRUE((big = malloc(100001)));
        memset(big, 'A', 100000);
        big[100000] = 0;
        write_raw("big", big);
        free(big);
        ASSERT_OK(cached_pks_load(cache, "@big", &loaded));
        ASSERT_TRUE(loaded == NULL);
        /* a FIFO neither blocks nor counts */
        snprintf(path, sizeof(path), "%s/fifo", cache);
        ASSERT_OK(mkfifo(path, 0600) < 0 ? -errno : 0);
        ASSERT_OK(cached_pks_load(cache, "@fifo", &loaded));
        ASSERT_TRUE(loaded == NULL);
        /* a symlink to another file is not followed */
        snprintf(path, sizeof(path), "%s/link", cache);
        ASSERT_OK(symlink("carol", path) < 0 ? -errno : 0);
        ASSERT_OK(cached_pks_load(cache, "@link", &loaded));
        ASSERT_TRUE(loaded == NULL);
}

TEST(atsigns_that_are_not_file_names_are_refused) {
        char *loaded = NULL;
        CachedPkState state;
        int store_error;

        ASSERT_ERR(cached_pks_load(cache, "@../x", &loaded), -EINVAL);
        ASSERT_ERR(cached_pks_load(cache, "@.hidden", &loaded), -EINVAL);
        ASSERT_ERR(cached_pks_load(cache, "@", &loaded), -EINVAL);
        ASSERT_ERR(cached_pks_store(cache, "@a/b", key1), -EINVAL);
        ASSERT_ERR(cached_pks_check(cache, "@dave", "bm90IGEga2V5", false, &state, &store_error), -EINVAL);
}

TEST(the_state_directory_wins_over_home) {
        char *d = NULL;

        setenv("STATE_DIRECTORY", "/var/lib/noports:/var/lib/other", 1);
        ASSERT_OK(cached_pks_dir_default(&d));
        ASSERT_STREQ(d, "/var/lib/noports/cached_pks");
        free(d);
        unsetenv("STATE_DIRECTORY");
        setenv("HOME", "/home/u", 1);
        ASSERT_OK(cached_pks_dir_default(&d));
        ASSERT_STREQ(d, "/home/u/.atsign/sshnp/cached_pks");
        free(d);
}

int main(void) {
        ASSERT_TRUE(mkdtemp(dir));
        snprintf(cache, sizeof(cache), "%s/state/cached_pks", dir);
        key1 = new_key();
        key2 = new_key();
        ASSERT_TRUE(strcmp(key1, key2) != 0);
        RUN(first_use_pins_the_key_in_a_private_file);
        RUN(strict_refuses_a_changed_key_and_keeps_the_old_one);
        RUN(non_strict_accepts_a_changed_key_and_replaces_it);
        RUN(clear_forgets_every_key);
        RUN(a_dart_client_file_is_read);
        RUN(hostile_cache_files_count_as_no_key);
        RUN(atsigns_that_are_not_file_names_are_refused);
        RUN(the_state_directory_wins_over_home);
        ASSERT_TRUE(cached_pks_clear(cache) >= 0);
        rmdir(cache);
        snprintf(cache, sizeof(cache), "%s/state", dir);
        rmdir(cache);
        rmdir(dir);
        return 0;
}

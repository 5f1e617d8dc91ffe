/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* The JIT: C from generate-c.c, compiled at run time by the system C
 * compiler into a shared object and loaded with dlopen(), as DPDK's SWX
 * pipeline does.  Modules are cached by the hash of their code and the
 * compiler command: in memory (one module serves every encapsulation
 * with the same code) and on disk (a restart reuses them). */

#include <config.h>
#include "stack.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "util.h"

extern char **environ;

/* The headers the generated code includes, embedded at build time so
 * that the JIT needs no include path. */
static const char jit_prelude[] =
#include "jit-prelude.inc"
    ;

#define JIT_CFLAGS "-O2", "-fPIC", "-shared", "-std=gnu11", "-w"

struct ps_jit_module {
    uint64_t key;
    void *handle;
    unsigned int refcount;
    struct ps_jit_module *next;
};

static pthread_mutex_t jit_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct ps_jit_module *modules;       /* Loaded, by key. */
static char *cache_dir;                     /* NULL: the default. */
static struct ps_jit_stats stats;

void
ps_jit_set_cache_dir(const char *dir)
{
    pthread_mutex_lock(&jit_mutex);
    free(cache_dir);
    cache_dir = dir ? ps_xstrdup(dir) : NULL;
    pthread_mutex_unlock(&jit_mutex);
}

static char *
default_cache_dir(void)
{
    const char *env = getenv("PROTOSTACK_JIT_DIR");
    if (env && env[0]) {
        return ps_xstrdup(env);
    }
    env = getenv("XDG_CACHE_HOME");
    if (env && env[0]) {
        return ps_xasprintf("%s/protostack/jit", env);
    }
    env = getenv("HOME");
    return ps_xasprintf("%s/.cache/protostack/jit", env && env[0] ? env
                        : "/tmp");
}

const char *
ps_jit_cache_dir(void)
{
    static __thread char *buf;
    free(buf);
    pthread_mutex_lock(&jit_mutex);
    buf = cache_dir ? ps_xstrdup(cache_dir) : default_cache_dir();
    pthread_mutex_unlock(&jit_mutex);
    return buf;
}

void
ps_jit_get_stats(struct ps_jit_stats *s)
{
    pthread_mutex_lock(&jit_mutex);
    *s = stats;
    pthread_mutex_unlock(&jit_mutex);
}

/* The compiler command: $PROTOSTACK_CC split at blanks, else "cc". */
static char **
compiler_argv(size_t *n)
{
    const char *cc = getenv("PROTOSTACK_CC");
    char *copy = ps_xstrdup(cc && cc[0] ? cc : "cc");
    char **argv = NULL;
    size_t allocated = 0;
    *n = 0;
    for (char *save, *w = strtok_r(copy, " \t", &save); w;
         w = strtok_r(NULL, " \t", &save)) {
        char **slot = ps_array_push((void **) &argv, n, &allocated,
                                    sizeof *slot);
        *slot = ps_xstrdup(w);
    }
    free(copy);
    return argv;
}

/* FNV-1a, 64 bits. */
static uint64_t
hash_bytes(uint64_t h, const void *p_, size_t n)
{
    const uint8_t *p = p_;
    for (size_t i = 0; i < n; i++) {
        h = (h ^ p[i]) * UINT64_C(0x100000001b3);
    }
    return h;
}

static uint64_t
module_key(const char *code, char **cc, size_t n_cc)
{
    static const char *const flags[] = { JIT_CFLAGS };
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    h = hash_bytes(h, jit_prelude, sizeof jit_prelude);
    h = hash_bytes(h, code, strlen(code) + 1);
    for (size_t i = 0; i < n_cc; i++) {
        h = hash_bytes(h, cc[i], strlen(cc[i]) + 1);
    }
    for (size_t i = 0; i < PS_ARRAY_SIZE(flags); i++) {
        h = hash_bytes(h, flags[i], strlen(flags[i]) + 1);
    }
    return h;
}

static int
mkdir_p(const char *dir)
{
    char *copy = ps_xstrdup(dir);
    for (char *p = copy + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(copy, 0700);
            *p = '/';
        }
    }
    int error = mkdir(copy, 0700) && errno != EEXIST ? errno : 0;
    free(copy);
    return error;
}

static bool
write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        return false;
    }
    bool ok = fputs(jit_prelude, f) >= 0 && fputs(text, f) >= 0;
    return fclose(f) == 0 && ok;
}

/* Runs the compiler on 'src' to make 'so'; on failure returns false with
 * the compiler's messages in '*errorp'. */
static bool
run_compiler(char **cc, size_t n_cc, const char *src, const char *so,
             const char *log, char **errorp)
{
    static const char *const flags[] = { JIT_CFLAGS };
    size_t n = 0;
    const char **argv = ps_xmalloc((n_cc + PS_ARRAY_SIZE(flags) + 5)
                                   * sizeof *argv);
    for (size_t i = 0; i < n_cc; i++) {
        argv[n++] = cc[i];
    }
    for (size_t i = 0; i < PS_ARRAY_SIZE(flags); i++) {
        argv[n++] = flags[i];
    }
    argv[n++] = "-o";
    argv[n++] = so;
    argv[n++] = src;
    argv[n] = NULL;

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log,
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    pid_t pid;
    int error = posix_spawnp(&pid, argv[0], &actions, NULL,
                             (char *const *) argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    free(argv);
    if (error) {
        ps_set_error(errorp, PS_ERR_IO, "cannot run compiler \"%s\": %s",
                     cc[0], strerror(error));
        return false;
    }
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            ps_set_error(errorp, PS_ERR_IO, "waitpid: %s", strerror(errno));
            return false;
        }
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status)) {
        char msg[512] = "";
        FILE *f = fopen(log, "r");
        if (f) {
            size_t len = fread(msg, 1, sizeof msg - 1, f);
            msg[len] = '\0';
            fclose(f);
        }
        ps_set_error(errorp, PS_ERR_IO, "compiler \"%s\" failed: %s", cc[0],
                     msg);
        return false;
    }
    return true;
}

static struct ps_jit_module *
open_module(const char *so, uint64_t key, char **errorp)
{
    void *handle = dlopen(so, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        ps_set_error(errorp, PS_ERR_IO, "dlopen %s: %s", so, dlerror());
        return NULL;
    }
    struct ps_jit_module *m = ps_xzalloc(sizeof *m);
    m->key = key;
    m->handle = handle;
    m->refcount = 1;
    return m;
}

static uint64_t
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * UINT64_C(1000000000) + ts.tv_nsec;
}

struct ps_jit_module *
ps_jit_load(const char *code, char **errorp)
{
    size_t n_cc;
    char **cc = compiler_argv(&n_cc);
    uint64_t key = module_key(code, cc, n_cc);
    struct ps_jit_module *m = NULL;

    /* One compilation at a time: a second request for the same code
     * waits and then finds the module loaded. */
    pthread_mutex_lock(&jit_mutex);
    for (m = modules; m; m = m->next) {
        if (m->key == key) {
            m->refcount++;
            stats.memory_hits++;
            goto out;
        }
    }

    char *dir = cache_dir ? ps_xstrdup(cache_dir) : default_cache_dir();
    char *so = ps_xasprintf("%s/%016"PRIx64".so", dir, key);
    if (!access(so, R_OK)) {
        m = open_module(so, key, NULL);
        if (m) {
            stats.disk_hits++;
        } else {
            unlink(so);         /* Corrupt or stale: compile it again. */
        }
    }
    if (!m) {
        int error = mkdir_p(dir);
        char *base = ps_xasprintf("%s/%016"PRIx64".%ld", dir, key,
                                  (long) getpid());
        char *src = ps_xasprintf("%s.c", base);
        char *tmp_so = ps_xasprintf("%s.so", base);
        char *log = ps_xasprintf("%s.log", base);
        uint64_t start = now_ns();
        if (error) {
            ps_set_error(errorp, PS_ERR_IO, "JIT cache %s: %s", dir,
                         strerror(error));
        } else if (!write_file(src, code)) {
            ps_set_error(errorp, PS_ERR_IO, "%s: %s", src, strerror(errno));
        } else if (!run_compiler(cc, n_cc, src, tmp_so, log, errorp)) {
            stats.failures++;
        } else if (rename(tmp_so, so)) {
            ps_set_error(errorp, PS_ERR_IO, "%s: %s", so, strerror(errno));
        } else {
            stats.last_compile_ns = now_ns() - start;
            m = open_module(so, key, errorp);
            if (m) {
                stats.compiles++;
            } else {
                /* Do not leave a module that cannot load for the next
                 * process to find. */
                stats.failures++;
                unlink(so);
            }
        }
        unlink(src);
        unlink(log);
        unlink(tmp_so);
        free(base);
        free(src);
        free(tmp_so);
        free(log);
    }
    free(so);
    free(dir);
    if (m) {
        m->refcount++;          /* One reference stays with the cache. */
        m->next = modules;
        modules = m;
    }

out:
    pthread_mutex_unlock(&jit_mutex);
    for (size_t i = 0; i < n_cc; i++) {
        free(cc[i]);
    }
    free(cc);
    return m;
}

void *
ps_jit_symbol(const struct ps_jit_module *m, const char *name)
{
    return dlsym(m->handle, name);
}

void
ps_jit_unref(struct ps_jit_module *m)
{
    /* Modules stay loaded in the memory cache for the life of the
     * process: code may still run on another thread that loaded the
     * function pointer just before its encapsulation was destroyed. */
    pthread_mutex_lock(&jit_mutex);
    if (m->refcount > 1) {
        m->refcount--;
    }
    pthread_mutex_unlock(&jit_mutex);
}

/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* The JIT: C from generate-c.c, compiled at run time by the system C
 * compiler into a shared object and loaded with dlopen(), as DPDK's SWX
 * pipeline does.  Modules are cached by the hash of their code and the
 * compiler command: in memory (one module serves every encapsulation
 * with the same code) and on disk (a restart reuses them).
 *
 * Background compiles run on a small pool of threads fed by a queue
 * (ps_jit_submit()).  No lock is held while the compiler runs: the
 * module table's lock only marks a module as being loaded, so that a
 * second request for the same code waits for it, and requests for other
 * code go ahead. */

#include <config.h>
#include "stack.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
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

/* A temporary file or directory in the cache older than this was left
 * by a process that died while compiling: a compile takes a second or
 * so. */
#define JIT_STALE_SECONDS 600

/* The pool: at most this many compiles wait, and by default two threads
 * compile ($PROTOSTACK_JIT_THREADS, 1 to JIT_MAX_THREADS). */
#define JIT_MAX_QUEUE 1024
#define JIT_DEFAULT_THREADS 2
#define JIT_MAX_THREADS 16

struct ps_jit_module {
    uint64_t key;
    void *handle;               /* NULL while a thread loads it. */
    void *encap;                /* Entry points of generate-c.c's JIT */
    void *setters;              /* variant: ps_jit_encap, ps_jit_setters. */
    struct ps_jit_module *next;
};

/* A string kept for the life of the process, once per distinct text. */
struct jit_string {
    struct jit_string *next;
    char s[];
};

/* 'jit_mutex' protects what follows it, up to the pool. */
static pthread_mutex_t jit_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t jit_loaded = PTHREAD_COND_INITIALIZER;
static struct ps_jit_module *modules;       /* Loaded or loading. */
static char *cache_dir;                     /* NULL: the default. */
static struct jit_string *dir_names;        /* From ps_jit_cache_dir(). */
static struct jit_string *warnings;         /* Written to stderr. */
static char *cache_problem;                 /* Latest refusal. */
static struct ps_jit_stats stats;

void
ps_jit_set_cache_dir(const char *dir)
{
    pthread_mutex_lock(&jit_mutex);
    free(cache_dir);
    cache_dir = dir ? ps_xstrdup(dir) : NULL;
    pthread_mutex_unlock(&jit_mutex);
}

/* The home directory: $HOME, else the password database's, else NULL.
 * malloc()'d. */
static char *
home_dir(void)
{
    const char *env = getenv("HOME");
    if (env && env[0]) {
        return ps_xstrdup(env);
    }

    long size = sysconf(_SC_GETPW_R_SIZE_MAX);
    char *buf = ps_xmalloc(size > 0 ? size : 16384);
    struct passwd pw, *result = NULL;
    char *home = NULL;
    if (!getpwuid_r(geteuid(), &pw, buf, size > 0 ? size : 16384, &result)
        && result && result->pw_dir && result->pw_dir[0]) {
        home = ps_xstrdup(result->pw_dir);
    }
    free(buf);
    return home;
}

/* The cache directory now, malloc()'d, or NULL if there is none. */
static char *
current_cache_dir__(void)
{
    if (cache_dir) {
        return ps_xstrdup(cache_dir);
    }

    const char *env = getenv("PROTOSTACK_JIT_DIR");
    if (env && env[0]) {
        return ps_xstrdup(env);
    }
    env = getenv("XDG_CACHE_HOME");
    if (env && env[0]) {
        return ps_xasprintf("%s/protostack/jit", env);
    }
    char *home = home_dir();
    char *dir = home ? ps_xasprintf("%s/.cache/protostack/jit", home) : NULL;
    free(home);
    return dir;
}

/* Returns the copy of 's' in 'list', adding one if there is none; sets
 * '*added' accordingly. */
static const char *
intern__(struct jit_string **list, const char *s, bool *added)
{
    for (struct jit_string *p = *list; p; p = p->next) {
        if (!strcmp(p->s, s)) {
            *added = false;
            return p->s;
        }
    }
    size_t len = strlen(s);
    struct jit_string *p = ps_xmalloc(sizeof *p + len + 1);
    memcpy(p->s, s, len + 1);
    p->next = *list;
    *list = p;
    *added = true;
    return p->s;
}

const char *
ps_jit_cache_dir(void)
{
    const char *name = NULL;
    bool added;

    pthread_mutex_lock(&jit_mutex);
    char *dir = current_cache_dir__();
    if (dir) {
        name = intern__(&dir_names, dir, &added);
    }
    pthread_mutex_unlock(&jit_mutex);
    free(dir);
    return name;
}

char *
ps_jit_cache_problem(void)
{
    pthread_mutex_lock(&jit_mutex);
    char *problem = cache_problem ? ps_xstrdup(cache_problem) : NULL;
    pthread_mutex_unlock(&jit_mutex);
    return problem;
}

/* Records why the cache was refused ('problem', which it takes), and
 * says it on stderr the first time. */
static void
refuse_cache(char *problem)
{
    bool added;

    pthread_mutex_lock(&jit_mutex);
    stats.cache_refusals++;
    free(cache_problem);
    cache_problem = problem;
    intern__(&warnings, problem, &added);
    if (added) {
        fprintf(stderr, "protostack: JIT cache refused: %s; compiling in "
                "a private temporary directory\n", problem);
    }
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

static void
free_argv(char **argv, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(argv[i]);
    }
    free(argv);
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
writable_by_others(const struct stat *st)
{
    return st->st_mode & (S_IWGRP | S_IWOTH);
}

/* Creates 'dir' if needed and checks that it may hold the cache: a
 * directory owned by this user and writable by no one else, below
 * directories that only root or this user can change (or sticky ones,
 * such as /tmp).  Returns NULL if so, else a malloc()'d reason. */
static char *
check_cache_dir(const char *dir)
{
    uid_t uid = geteuid();
    struct stat st;

    int error = mkdir_p(dir);
    if (error) {
        return ps_xasprintf("cannot create %s: %s", dir, strerror(error));
    }
    char *path = realpath(dir, NULL);
    if (!path) {
        return ps_xasprintf("%s: %s", dir, strerror(errno));
    }

    char *why = NULL;
    if (stat(path, &st)) {
        why = ps_xasprintf("%s: %s", path, strerror(errno));
    } else if (!S_ISDIR(st.st_mode)) {
        why = ps_xasprintf("%s is not a directory", path);
    } else if (st.st_uid != uid) {
        why = ps_xasprintf("%s is owned by uid %u, not by uid %u", path,
                           (unsigned int) st.st_uid, (unsigned int) uid);
    } else if (writable_by_others(&st)) {
        why = ps_xasprintf("%s is writable by group or others (mode %03o)",
                           path, (unsigned int) st.st_mode & 07777);
    }

    /* The directories above: whoever can rename an entry in one of them
     * can put another directory in the cache's place. */
    while (!why) {
        char *slash = strrchr(path, '/');
        if (!slash[1]) {
            break;              /* That was "/". */
        }
        slash[slash == path] = '\0';     /* "/a/b" -> "/a", "/a" -> "/". */
        if (stat(path, &st)) {
            why = ps_xasprintf("%s: %s", path, strerror(errno));
        } else if (st.st_uid && st.st_uid != uid) {
            why = ps_xasprintf("%s, above the cache, is owned by uid %u",
                               path, (unsigned int) st.st_uid);
        } else if (writable_by_others(&st) && !(st.st_mode & S_ISVTX)) {
            why = ps_xasprintf("%s, above the cache, is writable by group "
                               "or others (mode %03o)", path,
                               (unsigned int) st.st_mode & 07777);
        }
    }
    free(path);
    return why;
}

/* Checks the cached object 'so' before it is loaded: a regular file, not
 * a symbolic link, owned by this user and writable by no one else.
 * Returns NULL if it may be loaded (with '*exists' telling whether there
 * is one), else a malloc()'d reason. */
static char *
check_object(const char *so, bool *exists)
{
    struct stat st;

    *exists = false;
    int fd = open(so, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        return (errno == ENOENT ? NULL
                : errno == ELOOP ? ps_xasprintf("%s is a symbolic link", so)
                : ps_xasprintf("%s: %s", so, strerror(errno)));
    }
    int error = fstat(fd, &st) ? errno : 0;
    close(fd);
    if (error) {
        return ps_xasprintf("%s: %s", so, strerror(error));
    } else if (!S_ISREG(st.st_mode)) {
        return ps_xasprintf("%s is not a regular file", so);
    } else if (st.st_uid != geteuid()) {
        return ps_xasprintf("%s is owned by uid %u, not by uid %u", so,
                            (unsigned int) st.st_uid,
                            (unsigned int) geteuid());
    } else if (writable_by_others(&st)) {
        return ps_xasprintf("%s is writable by group or others (mode %03o)",
                            so, (unsigned int) st.st_mode & 07777);
    }
    *exists = true;
    return NULL;
}

/* True if 'name', in the cache directory, is a temporary file or
 * directory: KEY.tmp-XXXXXX (a compile's own directory), or KEY.PID.c,
 * .so or .log (the temporary files of older versions).  The cache's
 * modules are KEY.so. */
static bool
is_temporary(const char *name)
{
    return (strspn(name, "0123456789abcdef") == 16 && name[16] == '.'
            && strcmp(name + 17, "so"));
}

/* Removes the entries of directory 'name' in 'dfd' (one level: a
 * compile's directory holds only files), then the directory. */
static void
remove_dir_at(int dfd, const char *name)
{
    int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW
                    | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (d) {
        for (struct dirent *de; (de = readdir(d)) != NULL;) {
            if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
                unlinkat(fd, de->d_name, 0);
            }
        }
        closedir(d);
    } else if (fd >= 0) {
        close(fd);
    }
    unlinkat(dfd, name, AT_REMOVEDIR);
}

/* Removes the temporary files and directories that processes killed
 * while compiling left in 'dir': those not changed for
 * JIT_STALE_SECONDS. */
static void
clean_stale(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        return;
    }
    int dfd = dirfd(d);
    time_t now = time(NULL);
    for (struct dirent *de; (de = readdir(d)) != NULL;) {
        struct stat st;
        if (!is_temporary(de->d_name)
            || fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW)
            || now - st.st_mtime < JIT_STALE_SECONDS) {
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            remove_dir_at(dfd, de->d_name);
        } else {
            unlinkat(dfd, de->d_name, 0);
        }
    }
    closedir(d);
}

static bool
write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "we");
    if (!f) {
        return false;
    }
    bool ok = fputs(jit_prelude, f) >= 0 && fputs(text, f) >= 0;
    return fclose(f) == 0 && ok;
}

/* Returns the path that execvp() would run for 'name' (malloc()'d), or
 * NULL with errno set. */
static char *
find_program(const char *name)
{
    if (strchr(name, '/')) {
        return access(name, X_OK) ? NULL : ps_xstrdup(name);
    }

    const char *path = getenv("PATH");
    char *copy = ps_xstrdup(path && path[0] ? path : "/usr/bin:/bin");
    char *found = NULL;
    int error = ENOENT;
    for (char *save, *d = strtok_r(copy, ":", &save); d && !found;
         d = strtok_r(NULL, ":", &save)) {
        char *file = ps_xasprintf("%s/%s", d, name);
        if (!access(file, X_OK)) {
            found = file;
        } else {
            error = errno == EACCES ? EACCES : error;
            free(file);
        }
    }
    free(copy);
    errno = error;
    return found;
}

/* Closes, in the child, every descriptor from 'first' on: the compiler
 * must not inherit the host's descriptors that lack FD_CLOEXEC. */
static void
close_from(posix_spawn_file_actions_t *actions, int first)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 \
                           || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    posix_spawn_file_actions_addclosefrom_np(actions, first);
#else
    DIR *d = opendir("/proc/self/fd");
    if (d) {
        for (struct dirent *de; (de = readdir(d)) != NULL;) {
            int fd = atoi(de->d_name);
            if (fd >= first && fd != dirfd(d)) {
                posix_spawn_file_actions_addclose(actions, fd);
            }
        }
        closedir(d);
    }
#endif
}

/* The compiler runs under a small /bin/sh wrapper that writes its exit
 * status to descriptor 3, a pipe that only the wrapper holds: the status
 * arrives whatever the host does with SIGCHLD (a host that ignores it
 * has its children reaped by the kernel, with their status) and even if
 * another thread of the host reaps every child.  The compiler itself
 * runs with descriptor 3 closed, so the pipe's end of file is the
 * wrapper's exit. */
static const char wrapper[] = "\"$@\" 3>&-; echo $? >&3";

/* Spawns 'argv' (argv[0] a path) under the wrapper, with standard input
 * from /dev/null, standard output and error to 'log', no other
 * descriptor, default signal dispositions and no blocked signal.  Stores
 * its exit status in '*statusp' (128 + N if signal N killed it), or
 * returns false with a message in '*errorp'. */
static bool
spawn_and_wait(const char **argv, size_t argc, const char *log,
               int *statusp, char **errorp)
{
    const char **full = ps_xmalloc((argc + 5) * sizeof *full);
    full[0] = "/bin/sh";
    full[1] = "-c";
    full[2] = wrapper;
    full[3] = "sh";
    memcpy(&full[4], argv, (argc + 1) * sizeof *argv);

    int fds[2];
    if (pipe2(fds, O_CLOEXEC)) {
        ps_set_error(errorp, PS_ERR_IO, "pipe: %s", strerror(errno));
        free(full);
        return false;
    }
    if (fds[1] < 3) {
        /* The file actions below reuse descriptors 0 to 2. */
        int fd = fcntl(fds[1], F_DUPFD_CLOEXEC, 3);
        int error = errno;
        close(fds[1]);
        if (fd < 0) {
            ps_set_error(errorp, PS_ERR_IO, "fcntl: %s", strerror(error));
            close(fds[0]);
            free(full);
            return false;
        }
        fds[1] = fd;
    }

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, log,
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 3);
    close_from(&actions, 4);

    posix_spawnattr_t attr;
    sigset_t all, none;
    sigfillset(&all);
    sigdelset(&all, SIGKILL);
    sigdelset(&all, SIGSTOP);
    sigemptyset(&none);
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF
                             | POSIX_SPAWN_SETSIGMASK);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setsigmask(&attr, &none);

    pid_t pid;
    int error = posix_spawn(&pid, full[0], &actions, &attr,
                            (char *const *) full, environ);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&actions);
    free(full);
    close(fds[1]);
    if (error) {
        ps_set_error(errorp, PS_ERR_IO, "cannot start /bin/sh: %s",
                     strerror(error));
        close(fds[0]);
        return false;
    }

    char text[16];
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fds[0], text + len, sizeof text - 1 - len);
        if (n > 0) {
            len += n;
        } else if (!n || errno != EINTR || len >= sizeof text - 1) {
            break;
        }
    }
    close(fds[0]);
    text[len] = '\0';

    /* Reap the wrapper, unless the kernel or the host did. */
    int status;
    pid_t reaped;
    while ((reaped = waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
        continue;
    }

    char *end;
    long value = strtol(text, &end, 10);
    if (end == text || *end != '\n' || value < 0 || value > 255) {
        if (reaped == pid && WIFSIGNALED(status)) {
            ps_set_error(errorp, PS_ERR_IO, "the compiler's /bin/sh wrapper "
                         "was killed by signal %d", WTERMSIG(status));
        } else {
            ps_set_error(errorp, PS_ERR_IO, "the compiler's /bin/sh wrapper "
                         "ended without reporting its status");
        }
        return false;
    }
    *statusp = value;
    return true;
}

/* Runs the compiler on 'src' to make 'so'; on failure returns false with
 * the compiler's messages in '*errorp'. */
static bool
run_compiler(char **cc, size_t n_cc, const char *src, const char *so,
             const char *log, char **errorp)
{
    static const char *const flags[] = { JIT_CFLAGS };

    char *path = find_program(cc[0]);
    if (!path) {
        ps_set_error(errorp, PS_ERR_IO, "cannot run compiler \"%s\": %s",
                     cc[0], strerror(errno));
        return false;
    }

    size_t n = 0;
    const char **argv = ps_xmalloc((n_cc + PS_ARRAY_SIZE(flags) + 4)
                                   * sizeof *argv);
    argv[n++] = path;
    for (size_t i = 1; i < n_cc; i++) {
        argv[n++] = cc[i];
    }
    for (size_t i = 0; i < PS_ARRAY_SIZE(flags); i++) {
        argv[n++] = flags[i];
    }
    argv[n++] = "-o";
    argv[n++] = so;
    argv[n++] = src;
    argv[n] = NULL;
    int status;
    bool ok = spawn_and_wait(argv, n, log, &status, errorp);
    free(argv);
    free(path);

    if (!ok) {
        return false;
    } else if (status) {
        char msg[512] = "";
        FILE *f = fopen(log, "re");
        if (f) {
            size_t len = fread(msg, 1, sizeof msg - 1, f);
            msg[len] = '\0';
            fclose(f);
        }
        ps_set_error(errorp, PS_ERR_IO,
                     "compiler \"%s\" failed (exit status %d): %s", cc[0],
                     status, msg);
        return false;
    }
    return true;
}

/* Compiles 'code' in a new directory made from 'tmp_template' (ending in
 * XXXXXX), loads the object and, if 'publish' is nonnull, renames the
 * object to 'publish': another process then finds it whole, or not at
 * all.  Removes the directory.  Returns the dlopen() handle, or NULL
 * with a message in '*errorp'. */
static void *
compile(const char *tmp_template, const char *publish, uint64_t key,
        const char *code, char **cc, size_t n_cc, char **errorp)
{
    char *tmp = ps_xstrdup(tmp_template);
    if (!mkdtemp(tmp)) {
        ps_set_error(errorp, PS_ERR_IO, "JIT temporary directory %s: %s",
                     tmp_template, strerror(errno));
        free(tmp);
        return NULL;
    }

    char *src = ps_xasprintf("%s/%016"PRIx64".c", tmp, key);
    char *so = ps_xasprintf("%s/%016"PRIx64".so", tmp, key);
    char *log = ps_xasprintf("%s/%016"PRIx64".log", tmp, key);
    void *handle = NULL;
    if (!write_file(src, code)) {
        ps_set_error(errorp, PS_ERR_IO, "%s: %s", src, strerror(errno));
    } else if (!run_compiler(cc, n_cc, src, so, log, errorp)) {
        /* The message is set. */
    } else if (chmod(so, 0700)) {
        ps_set_error(errorp, PS_ERR_IO, "%s: %s", so, strerror(errno));
    } else if (!(handle = dlopen(so, RTLD_NOW | RTLD_LOCAL))) {
        ps_set_error(errorp, PS_ERR_IO, "dlopen %s: %s", so, dlerror());
    } else if (publish) {
        /* A module that cannot be published still serves this process. */
        rename(so, publish);
    }
    unlink(src);
    unlink(so);
    unlink(log);
    rmdir(tmp);
    free(src);
    free(so);
    free(log);
    free(tmp);
    return handle;
}

static uint64_t
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * UINT64_C(1000000000) + ts.tv_nsec;
}

/* Loads the module for 'code' of 'key' from the cache directory 'dir'
 * (NULL if there is none), or compiles it there; refuses a directory or
 * an object that fails the checks, and then compiles in a private
 * temporary directory.  '*disk_hit' tells whether the module came from
 * the cache. */
static void *
load_or_compile(const char *dir, uint64_t key, const char *code,
                char **cc, size_t n_cc, bool *disk_hit, char **errorp)
{
    char *problem;
    void *handle = NULL;

    *disk_hit = false;
    if (!dir) {
        problem = ps_xstrdup("no cache directory ($HOME is not set and "
                             "the user has no home directory)");
    } else {
        problem = check_cache_dir(dir);
    }
    if (!problem) {
        char *so = ps_xasprintf("%s/%016"PRIx64".so", dir, key);
        bool exists;
        problem = check_object(so, &exists);
        if (!problem && exists) {
            /* An object that does not load is compiled again, and
             * replaced by rename(). */
            handle = dlopen(so, RTLD_NOW | RTLD_LOCAL);
            *disk_hit = handle != NULL;
        }
        if (!problem && !handle) {
            clean_stale(dir);
            char *tmp = ps_xasprintf("%s/%016"PRIx64".tmp-XXXXXX", dir, key);
            handle = compile(tmp, so, key, code, cc, n_cc, errorp);
            free(tmp);
        }
        free(so);
    }
    if (problem) {
        refuse_cache(problem);
        const char *tmpdir = getenv("TMPDIR");
        char *tmp = ps_xasprintf("%s/protostack-jit-%016"PRIx64"-XXXXXX",
                                 tmpdir && tmpdir[0] == '/' ? tmpdir
                                 : "/tmp", key);
        handle = compile(tmp, NULL, key, code, cc, n_cc, errorp);
        free(tmp);
    }
    return handle;
}

void
ps_jit_count_memory_hit(void)
{
    pthread_mutex_lock(&jit_mutex);
    stats.memory_hits++;
    pthread_mutex_unlock(&jit_mutex);
}

struct ps_jit_module *
ps_jit_find(const char *code)
{
    size_t n_cc;
    char **cc = compiler_argv(&n_cc);
    uint64_t key = module_key(code, cc, n_cc);
    struct ps_jit_module *m;

    free_argv(cc, n_cc);
    pthread_mutex_lock(&jit_mutex);
    for (m = modules; m && (m->key != key || !m->handle); m = m->next) {
        continue;
    }
    if (m) {
        stats.memory_hits++;
    }
    pthread_mutex_unlock(&jit_mutex);
    return m;
}

struct ps_jit_module *
ps_jit_load(const char *code, char **errorp)
{
    size_t n_cc;
    char **cc = compiler_argv(&n_cc);
    uint64_t key = module_key(code, cc, n_cc);
    struct ps_jit_module *m;

    pthread_mutex_lock(&jit_mutex);
    for (;;) {
        for (m = modules; m && m->key != key; m = m->next) {
            continue;
        }
        if (!m) {
            break;
        } else if (m->handle) {
            stats.memory_hits++;
            pthread_mutex_unlock(&jit_mutex);
            free_argv(cc, n_cc);
            return m;
        }
        /* Another thread loads it: wait, then look again (if it failed,
         * this thread tries in its turn). */
        pthread_cond_wait(&jit_loaded, &jit_mutex);
    }
    m = ps_xzalloc(sizeof *m);
    m->key = key;
    m->next = modules;
    modules = m;
    char *dir = current_cache_dir__();
    pthread_mutex_unlock(&jit_mutex);

    uint64_t start = now_ns();
    bool disk_hit;
    void *handle = load_or_compile(dir, key, code, cc, n_cc, &disk_hit,
                                   errorp);
    uint64_t elapsed = now_ns() - start;
    free(dir);
    free_argv(cc, n_cc);
    /* The entry points are looked up here, outside every lock: dlsym()
     * takes the dynamic loader's lock. */
    void *encap = handle ? dlsym(handle, "ps_jit_encap") : NULL;
    void *setters = handle ? dlsym(handle, "ps_jit_setters") : NULL;

    pthread_mutex_lock(&jit_mutex);
    if (handle) {
        m->encap = encap;
        m->setters = setters;
        m->handle = handle;
        if (disk_hit) {
            stats.disk_hits++;
        } else {
            stats.compiles++;
            stats.last_compile_ns = elapsed;
        }
    } else {
        struct ps_jit_module **p;
        for (p = &modules; *p != m; p = &(*p)->next) {
            continue;
        }
        *p = m->next;
        free(m);
        m = NULL;
        stats.failures++;
    }
    pthread_cond_broadcast(&jit_loaded);
    pthread_mutex_unlock(&jit_mutex);
    return m;
}

/* Modules stay loaded for the life of the process: code may still run
 * on another thread that loaded the function pointer just before its
 * encapsulation was destroyed. */
void *
ps_jit_encap_function(const struct ps_jit_module *m)
{
    return m->encap;
}

void *
ps_jit_setters(const struct ps_jit_module *m)
{
    return m->setters;
}

/* The pool of compile threads.  'pool_mutex' protects all that follows,
 * and every job's members. */

enum jit_job_state {
    JOB_QUEUED,
    JOB_RUNNING,
    JOB_DONE,
};

/* A job whose code equals that of a job already queued or running (a
 * "leader": encapsulations of one shape share their code) does not queue
 * again: it follows the leader and ends with it, with the same module.
 * Thousands of flows of one shape installed at once then take one queue
 * slot and one compile. */
struct ps_jit_job {
    char *code;                 /* NULL once compiled, and in followers. */
    ps_jit_done_fn *done;
    void *aux;
    enum jit_job_state state;
    bool abandoned;             /* Free it when it ends, call nothing. */
    char *error;                /* Why it failed, once done. */
    struct ps_jit_job *next;    /* In the queue, or among the pending. */
    struct ps_jit_job *leader;  /* The job this one follows, or NULL. */
    struct ps_jit_job *followers; /* Of a leader, linked by 'next'. */
};

static pthread_mutex_t pool_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_work = PTHREAD_COND_INITIALIZER;
static pthread_cond_t pool_done = PTHREAD_COND_INITIALIZER;
static struct ps_jit_job *queue_head;
static struct ps_jit_job **queue_tail = &queue_head;
static struct ps_jit_job *running_head; /* Running leaders, by 'next'. */
static size_t n_queued, n_running, n_threads, n_idle;
static unsigned long long n_not_started, n_dropped;

static size_t
max_threads(void)
{
    const char *env = getenv("PROTOSTACK_JIT_THREADS");
    int n = env ? atoi(env) : 0;
    return (n <= 0 ? JIT_DEFAULT_THREADS
            : n > JIT_MAX_THREADS ? JIT_MAX_THREADS
            : n);
}

/* Ends 'job' with 'module' (NULL: failed, with 'error', which it takes):
 * calls it done unless it was abandoned, then frees it. */
static void
job_end(struct ps_jit_job *job, struct ps_jit_module *module, char *error)
{
    job->state = JOB_DONE;
    job->leader = NULL;
    job->next = NULL;
    if (job->abandoned) {
        n_dropped++;
        free(error);
        free(job);
    } else {
        job->error = error;
        job->done(job->aux, module, &job->error);
    }
}

/* Returns the queued or running job whose code is 'code', or NULL. */
static struct ps_jit_job *
find_leader(const char *code)
{
    for (struct ps_jit_job *j = queue_head; j; j = j->next) {
        if (!strcmp(j->code, code)) {
            return j;
        }
    }
    for (struct ps_jit_job *j = running_head; j; j = j->next) {
        if (!strcmp(j->code, code)) {
            return j;
        }
    }
    return NULL;
}

static void *
pool_thread_main(void *arg)
{
    pthread_mutex_lock(&pool_mutex);
    for (;;) {
        while (!queue_head) {
            n_idle++;
            pthread_cond_wait(&pool_work, &pool_mutex);
            n_idle--;
        }
        struct ps_jit_job *job = queue_head;
        queue_head = job->next;
        if (!queue_head) {
            queue_tail = &queue_head;
        }
        n_queued--;
        n_running++;
        job->state = JOB_RUNNING;
        for (struct ps_jit_job *f = job->followers; f; f = f->next) {
            f->state = JOB_RUNNING;
        }
        job->next = running_head;
        running_head = job;
        pthread_mutex_unlock(&pool_mutex);

        char *error = NULL;
        struct ps_jit_module *m = ps_jit_load(job->code, &error);

        pthread_mutex_lock(&pool_mutex);
        n_running--;
        struct ps_jit_job **p = &running_head;
        while (*p != job) {
            p = &(*p)->next;
        }
        *p = job->next;
        free(job->code);
        job->code = NULL;

        /* The followers first: 'error' is the leader's. */
        struct ps_jit_job *f = job->followers;
        job->followers = NULL;
        while (f) {
            struct ps_jit_job *next = f->next;
            job_end(f, m, error ? ps_xstrdup(error) : NULL);
            f = next;
        }
        job_end(job, m, error);
        pthread_cond_broadcast(&pool_done);
    }
    return NULL;
}

/* Starts one more pool thread, with every signal blocked, so that the
 * host's signal handlers never run on it. */
static int
start_thread(void)
{
    pthread_attr_t attr;
    sigset_t all, old;
    pthread_t thread;

    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int error = pthread_create(&thread, &attr, pool_thread_main, NULL);
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!error) {
        pthread_setname_np(thread, "ps_jit");
    }
    return error;
}

/* fork(): the child gets the JIT's locks free and its state whole (the
 * parent holds both locks across the fork), and, having none of the
 * parent's threads, starts its own pool threads on its next background
 * compile.  Compiles that were running in the parent never end in the
 * child. */
static void
before_fork(void)
{
    pthread_mutex_lock(&jit_mutex);
    pthread_mutex_lock(&pool_mutex);
}

static void
after_fork_parent(void)
{
    pthread_mutex_unlock(&pool_mutex);
    pthread_mutex_unlock(&jit_mutex);
}

static void
after_fork_child(void)
{
    n_threads = n_idle = 0;
    after_fork_parent();
}

static void
register_fork_handlers(void)
{
    pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}

struct ps_jit_job *
ps_jit_submit(char *code, ps_jit_done_fn *done, void *aux, char **errorp)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, register_fork_handlers);

    pthread_mutex_lock(&pool_mutex);
    struct ps_jit_job *leader = find_leader(code);
    if (leader) {
        struct ps_jit_job *job = ps_xzalloc(sizeof *job);
        job->done = done;
        job->aux = aux;
        job->state = leader->state;
        job->leader = leader;
        job->next = leader->followers;
        leader->followers = job;
        pthread_mutex_unlock(&pool_mutex);
        free(code);
        return job;
    }
    int error = 0;
    if (n_queued >= JIT_MAX_QUEUE) {
        ps_set_error(errorp, PS_ERR_IO, "JIT queue is full (%d compiles "
                     "wait)", JIT_MAX_QUEUE);
        error = EAGAIN;
    } else if (!n_idle && n_threads < max_threads()) {
        error = start_thread();
        if (!error) {
            n_threads++;
        } else if (n_threads) {
            error = 0;          /* The threads there will get to it. */
        } else {
            ps_set_error(errorp, PS_ERR_IO, "cannot start a JIT thread: %s",
                         strerror(error));
        }
    }
    if (error) {
        n_not_started++;
        pthread_mutex_unlock(&pool_mutex);
        free(code);
        return NULL;
    }

    struct ps_jit_job *job = ps_xzalloc(sizeof *job);
    job->code = code;
    job->done = done;
    job->aux = aux;
    job->state = JOB_QUEUED;
    *queue_tail = job;
    queue_tail = &job->next;
    n_queued++;
    pthread_cond_signal(&pool_work);
    pthread_mutex_unlock(&pool_mutex);
    return job;
}

void
ps_jit_cancel(struct ps_jit_job *job)
{
    if (!job) {
        return;
    }

    pthread_mutex_lock(&pool_mutex);
    if (job->leader) {
        /* A follower: leave the leader. */
        struct ps_jit_job **p = &job->leader->followers;
        while (*p != job) {
            p = &(*p)->next;
        }
        *p = job->next;
        n_dropped++;
        free(job);
        pthread_cond_broadcast(&pool_done);
    } else if (job->state == JOB_QUEUED && job->followers) {
        /* A queued leader with followers: the first follower takes its
         * place in the queue and its code. */
        struct ps_jit_job *heir = job->followers;
        heir->leader = NULL;
        heir->code = job->code;
        heir->followers = heir->next;
        for (struct ps_jit_job *f = heir->followers; f; f = f->next) {
            f->leader = heir;
        }
        heir->next = job->next;
        struct ps_jit_job **p = &queue_head;
        while (*p != job) {
            p = &(*p)->next;
        }
        *p = heir;
        if (queue_tail == &job->next) {
            queue_tail = &heir->next;
        }
        n_dropped++;
        free(job);
        pthread_cond_broadcast(&pool_done);
    } else if (job->state == JOB_QUEUED) {
        struct ps_jit_job **p, *prev = NULL;
        for (p = &queue_head; *p != job; p = &(*p)->next) {
            prev = *p;
        }
        *p = job->next;
        if (queue_tail == &job->next) {
            queue_tail = prev ? &prev->next : &queue_head;
        }
        n_queued--;
        n_dropped++;
        free(job->code);
        free(job);
        pthread_cond_broadcast(&pool_done);
    } else if (job->state == JOB_RUNNING) {
        job->abandoned = true;
    } else {
        free(job->error);
        free(job);
    }
    pthread_mutex_unlock(&pool_mutex);
}

void
ps_jit_job_wait(struct ps_jit_job *job)
{
    pthread_mutex_lock(&pool_mutex);
    while (job->state != JOB_DONE) {
        pthread_cond_wait(&pool_done, &pool_mutex);
    }
    pthread_mutex_unlock(&pool_mutex);
}

char *
ps_jit_job_error(const struct ps_jit_job *job)
{
    pthread_mutex_lock(&pool_mutex);
    char *error = job->error ? ps_xstrdup(job->error) : NULL;
    pthread_mutex_unlock(&pool_mutex);
    return error;
}

void
ps_jit_wait_idle(void)
{
    pthread_mutex_lock(&pool_mutex);
    while (n_queued || n_running) {
        pthread_cond_wait(&pool_done, &pool_mutex);
    }
    pthread_mutex_unlock(&pool_mutex);
}

void
ps_jit_get_stats(struct ps_jit_stats *s)
{
    pthread_mutex_lock(&jit_mutex);
    *s = stats;
    pthread_mutex_unlock(&jit_mutex);

    pthread_mutex_lock(&pool_mutex);
    s->not_started = n_not_started;
    s->dropped = n_dropped;
    s->queued = n_queued;
    s->running = n_running;
    pthread_mutex_unlock(&pool_mutex);
}

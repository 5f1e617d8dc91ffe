/*
 * Copyright (c) 2026 The protostack authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* The JIT's robustness: a cache it cannot trust is refused, processes
 * that share a cache (even with the same PID, in other PID namespaces)
 * do not spoil each other's compiles, what killed processes left is
 * cleaned, destroying an encapsulation never waits for a compiler, a
 * compile that cannot start says why, and the compiler runs with a clean
 * descriptor set whatever the host does with SIGCHLD.
 *
 * Each test compiles code of its own, since a module loaded in memory
 * serves the whole process and encapsulations that differ only in label
 * values share their code: encapsulation K has a header of K bytes of
 * padding (a protocol of the test's own) after VXLAN, a shape of its own.
 * The tests that need a fresh process (an empty memory cache) run in a
 * child. */

#include <config.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "protostack/protostack.h"
#include "test-common.h"

#define SPEC "eth,ip4,udp,vxlan"

/* Padding of any length, to give each encapsulation a shape of its own. */
#define TESTPAD                                                         \
    "protocol testpad \"Padding (test only)\" {\n"                       \
    "    bit<16> n = length(header, sub=2) \"Bytes of data\";\n"         \
    "    bytes data[n] @size(0) \"Data\";\n"                              \
    "}\n"

static struct ps_stack *stack;
static char *base_dir;          /* Every cache directory is below it. */

static int
remove_entry(const char *path, const struct stat *st, int flag,
             struct FTW *ftw)
{
    return remove(path);
}

static void
remove_tree(const char *path)
{
    nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int
setup(void **state)
{
    if (setup_registry(state)
        || ps_registry_load_string(registry, "testpad.proto", TESTPAD,
                                   NULL)
        || ps_stack_create(registry, SPEC, &stack, NULL)
        || asprintf(&base_dir, "%s/tests/jit-test",
                    getenv("PS_BUILDDIR") ? getenv("PS_BUILDDIR")
                    : ".") < 0) {
        return -1;
    }
    remove_tree(base_dir);
    return mkdir(base_dir, 0700);
}

static int
teardown(void **state)
{
    ps_jit_wait_idle();
    ps_stack_destroy(stack);
    remove_tree(base_dir);
    free(base_dir);
    return teardown_registry(state);
}

/* Returns a new, empty directory 'name' below 'base_dir' (malloc()'d). */
static char *
new_dir(const char *name)
{
    char *dir;
    assert_true(asprintf(&dir, "%s/%s", base_dir, name) > 0);
    remove_tree(dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    return dir;
}

static char *
path_in(const char *dir, const char *name)
{
    char *path;
    assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
    return path;
}

/* Creates an encapsulation of SPEC and 'vni' bytes of padding, with VXLAN
 * VNI 'vni', in 'tier': a shape of its own for each 'vni'. */
static enum ps_error
make_encap(unsigned int vni, enum ps_tier tier, struct ps_encap **encapp,
           char **errorp)
{
    const struct ps_stack *padded;
    char spec[64], labels[64];
    snprintf(spec, sizeof spec, SPEC ",{testpad,length=%u}", vni);
    snprintf(labels, sizeof labels, "vxlan.vni=%u", vni);
    enum ps_error error = ps_registry_stack(registry, spec, &padded, errorp);
    return (error ? error
            : ps_encap_create(padded, labels, tier, encapp, errorp));
}

/* Creates and destroys an encapsulation with VNI 'vni' in the JIT tier,
 * which must succeed. */
static void
jit_once(unsigned int vni)
{
    struct ps_encap *encap;
    char *error = NULL;
    if (make_encap(vni, PS_TIER_JIT, &encap, &error)) {
        fail_msg("JIT compile of VNI %u: %s", vni, error);
    }
    assert_int_equal(ps_encap_tier(encap), PS_TIER_JIT);
    ps_encap_destroy(encap);
}

/* The names in 'dir' (not "." and ".."), sorted, one per line
 * (malloc()'d). */
static char *
list_dir(const char *dir)
{
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);
    char *list = calloc(1, 1);
    size_t len = 0;
    for (int i = 0; i < n; i++) {
        const char *name = names[i]->d_name;
        if (strcmp(name, ".") && strcmp(name, "..")) {
            list = realloc(list, len + strlen(name) + 2);
            len += sprintf(list + len, "%s\n", name);
        }
        free(names[i]);
    }
    free(n >= 0 ? names : NULL);
    return list;
}

/* The number of modules (*.so) in 'dir'; the name of the last one in
 * '*namep' if 'namep' is nonnull (malloc()'d). */
static size_t
count_modules(const char *dir, char **namep)
{
    char *list = list_dir(dir);
    size_t n = 0;
    for (char *save, *name = strtok_r(list, "\n", &save); name;
         name = strtok_r(NULL, "\n", &save)) {
        size_t len = strlen(name);
        if (len > 3 && !strcmp(name + len - 3, ".so")) {
            n++;
            if (namep) {
                free(*namep);
                *namep = strdup(name);
            }
        }
    }
    free(list);
    return n;
}

/* Runs 'fn' in a child process and returns its exit status.  A child
 * starts with the parent's loaded modules, but a VNI no test used before
 * gives it code of its own. */
static int
run_child(int (*fn)(void *), void *aux)
{
    fflush(NULL);
    pid_t pid = fork();
    if (!pid) {
        _exit(fn(aux));
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Sends stderr to a temporary file until restore_stderr(), which returns
 * what was written (malloc()'d). */
static int saved_stderr = -1;
static FILE *captured;

static void
capture_stderr(void)
{
    fflush(stderr);
    captured = tmpfile();
    assert_non_null(captured);
    saved_stderr = dup(2);
    dup2(fileno(captured), 2);
}

static char *
restore_stderr(void)
{
    fflush(stderr);
    dup2(saved_stderr, 2);
    close(saved_stderr);
    long len = ftell(captured);
    char *text = calloc(1, len + 1);
    rewind(captured);
    assert_int_equal(fread(text, 1, len, captured), len);
    fclose(captured);
    return text;
}

static size_t
count_lines(const char *text)
{
    size_t n = 0;
    for (; *text; text++) {
        n += *text == '\n';
    }
    return n;
}

/* A cache directory that others can write is refused: the JIT still
 * works, from a private temporary directory, leaves nothing in the
 * refused directory, and says why once. */
static void
test_refuse_writable_dir(void **state)
{
    char *dir = new_dir("writable");
    struct ps_jit_stats before, after;

    assert_int_equal(chmod(dir, 0777), 0);
    ps_jit_set_cache_dir(dir);
    ps_jit_get_stats(&before);
    capture_stderr();
    jit_once(1001);
    jit_once(1002);
    char *said = restore_stderr();
    ps_jit_get_stats(&after);

    assert_int_equal(count_lines(said), 1);
    assert_non_null(strstr(said, "writable by group or others"));
    assert_non_null(strstr(said, dir));
    free(said);
    char *problem = ps_jit_cache_problem();
    assert_non_null(problem);
    assert_non_null(strstr(problem, "writable by group or others"));
    free(problem);
    assert_int_equal(after.cache_refusals, before.cache_refusals + 2);
    assert_int_equal(after.compiles, before.compiles + 2);
    char *list = list_dir(dir);
    assert_string_equal(list, "");
    free(list);

    /* Group-writable is no better. */
    assert_int_equal(chmod(dir, 0770), 0);
    ps_jit_get_stats(&before);
    jit_once(1003);
    ps_jit_get_stats(&after);
    assert_int_equal(after.cache_refusals, before.cache_refusals + 1);
    assert_int_equal(count_modules(dir, NULL), 0);

    /* Nor is a directory below one that others can write. */
    char *below = path_in(dir, "below");
    ps_jit_set_cache_dir(below);
    ps_jit_get_stats(&before);
    jit_once(1004);
    ps_jit_get_stats(&after);
    assert_int_equal(after.cache_refusals, before.cache_refusals + 1);
    problem = ps_jit_cache_problem();
    assert_non_null(strstr(problem, "above the cache"));
    free(problem);
    assert_int_equal(count_modules(below, NULL), 0);

    /* Once trusted, the directory serves as a cache. */
    assert_int_equal(chmod(dir, 0700), 0);
    ps_jit_get_stats(&before);
    jit_once(1005);
    ps_jit_get_stats(&after);
    assert_int_equal(after.cache_refusals, before.cache_refusals);
    assert_int_equal(count_modules(below, NULL), 1);
    free(below);
    free(dir);
}

/* A cache directory owned by another user is refused. */
static void
test_refuse_foreign_dir(void **state)
{
    if (geteuid()) {
        skip();                 /* Only root can give a directory away. */
    }
    char *dir = new_dir("foreign");
    struct ps_jit_stats before, after;

    assert_int_equal(chown(dir, 65534, 65534), 0);
    ps_jit_set_cache_dir(dir);
    ps_jit_get_stats(&before);
    jit_once(1010);
    ps_jit_get_stats(&after);
    assert_int_equal(after.cache_refusals, before.cache_refusals + 1);
    char *problem = ps_jit_cache_problem();
    assert_non_null(strstr(problem, "owned by uid 65534"));
    free(problem);
    assert_int_equal(count_modules(dir, NULL), 0);
    free(dir);
}

/* The child processes' work, with the exit status as the verdict. */
struct child_args {
    const char *dir;
    unsigned int vni;
    int barrier;                /* Read until EOF before starting, or -1. */
    int barrier_write;          /* The other end, to close, or -1. */
    long long compiles, disk_hits, refusals; /* Expected, or -1. */
    const char *problem;        /* Expected in ps_jit_cache_problem(). */
};

/* True if 'count' is 'expected', or if 'expected' is -1. */
static bool
as_expected(long long expected, unsigned long long count)
{
    return expected < 0 || count == (unsigned long long) expected;
}

static int
child_compile(void *args_)
{
    const struct child_args *args = args_;
    struct ps_jit_stats stats;
    struct ps_encap *encap;
    char *error = NULL;
    char c;

    if (args->barrier >= 0) {
        close(args->barrier_write);
        while (read(args->barrier, &c, 1) > 0) {
            continue;
        }
    }
    ps_jit_set_cache_dir(args->dir);
    if (make_encap(args->vni, PS_TIER_JIT, &encap, &error)) {
        fprintf(stderr, "child %ld: %s\n", (long) getpid(), error);
        return 1;
    }
    ps_encap_destroy(encap);
    ps_jit_get_stats(&stats);
    if (!as_expected(args->compiles, stats.compiles)
        || !as_expected(args->disk_hits, stats.disk_hits)
        || !as_expected(args->refusals, stats.cache_refusals)) {
        fprintf(stderr, "child: %llu compiles, %llu disk hits, %llu "
                "refusals\n", stats.compiles, stats.disk_hits,
                stats.cache_refusals);
        return 2;
    }
    if (args->problem) {
        char *problem = ps_jit_cache_problem();
        if (!problem || !strstr(problem, args->problem)) {
            fprintf(stderr, "child: cache problem %s\n", problem);
            return 3;
        }
        free(problem);
    }
    return 0;
}

/* A cached object that is a symbolic link is not loaded: the module is
 * compiled privately, and the link left alone.  A real object is loaded
 * from the cache by a new process. */
static void
test_refuse_symlinked_object(void **state)
{
    char *good = new_dir("good");
    char *other = new_dir("other");
    struct ps_jit_stats stats;
    struct stat st;

    ps_jit_get_stats(&stats);
    struct child_args args = {
        .dir = good, .vni = 1020, .barrier = -1,
        .compiles = stats.compiles + 1, .disk_hits = stats.disk_hits,
        .refusals = stats.cache_refusals,
    };
    assert_int_equal(run_child(child_compile, &args), 0);
    char *name = NULL;
    assert_int_equal(count_modules(good, &name), 1);

    /* A new process loads it from the cache. */
    args.compiles = stats.compiles;
    args.disk_hits = stats.disk_hits + 1;
    assert_int_equal(run_child(child_compile, &args), 0);

    /* A link to it in another cache is refused. */
    char *target = path_in(good, name);
    char *link = path_in(other, name);
    assert_int_equal(symlink(target, link), 0);
    args.dir = other;
    args.compiles = stats.compiles + 1;
    args.disk_hits = stats.disk_hits;
    args.refusals = stats.cache_refusals + 1;
    args.problem = "is a symbolic link";
    assert_int_equal(run_child(child_compile, &args), 0);
    assert_int_equal(lstat(link, &st), 0);
    assert_true(S_ISLNK(st.st_mode));

    /* So is an object that others can write. */
    args.dir = good;
    args.problem = "writable by group or others";
    assert_int_equal(chmod(target, 0722), 0);
    assert_int_equal(run_child(child_compile, &args), 0);

    free(target);
    free(link);
    free(name);
    free(other);
    free(good);
}

/* Runs child_compile() in a PID namespace of its own, if the system
 * lets it, where its PID is 1. */
static int
child_in_pid_namespace(void *args_)
{
    const struct child_args *args = args_;

    close(args->barrier_write);
    if (unshare(CLONE_NEWPID)) {
        return child_compile(args_);
    }
    pid_t pid = fork();
    if (!pid) {
        _exit(child_compile(args_));
    }
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) != pid) {
        return 4;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 5;
}

/* Starts 'fn' in a child process, whose PID it stores in '*pidp'. */
static int
start_child(int (*fn)(void *), void *aux, pid_t *pidp)
{
    *pidp = fork();
    if (!*pidp) {
        _exit(fn(aux));
    }
    return *pidp > 0 ? 0 : -1;
}

/* Processes that compile the same code into one cache at the same time,
 * all with PID 1 in their own PID namespaces (as in containers), all
 * succeed, and leave one module and no temporary file. */
static void
test_concurrent_compiles(void **state)
{
    enum { N = 6 };
    char *dir = new_dir("shared");
    int barrier[2];
    pid_t pids[N];

    assert_int_equal(pipe(barrier), 0);
    struct child_args args = {
        .dir = dir, .vni = 1030,
        .barrier = barrier[0], .barrier_write = barrier[1],
        .compiles = -1, .disk_hits = -1, .refusals = -1,
    };
    fflush(NULL);
    for (int i = 0; i < N; i++) {
        assert_int_equal(start_child(child_in_pid_namespace, &args,
                                     &pids[i]), 0);
    }
    close(barrier[0]);
    close(barrier[1]);          /* Go. */
    for (int i = 0; i < N; i++) {
        int status;
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }

    char *list = list_dir(dir);
    assert_int_equal(count_lines(list), 1);
    assert_non_null(strstr(list, ".so\n"));
    free(list);

    /* And a new process loads the module from there. */
    struct ps_jit_stats stats;
    ps_jit_get_stats(&stats);
    args.barrier = -1;
    args.compiles = stats.compiles;
    args.disk_hits = stats.disk_hits + 1;
    assert_int_equal(run_child(child_compile, &args), 0);
    free(dir);
}

static void
make_old(const char *path)
{
    struct timespec times[2];
    clock_gettime(CLOCK_REALTIME, &times[0]);
    times[0].tv_sec -= 7200;
    times[1] = times[0];
    assert_int_equal(utimensat(AT_FDCWD, path, times, AT_SYMLINK_NOFOLLOW),
                     0);
}

static void
make_file(const char *dir, const char *name, bool old)
{
    char *path = path_in(dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("x\n", f);
    fclose(f);
    if (old) {
        make_old(path);
    }
    free(path);
}

/* A compile cleans the temporary files and directories that killed
 * processes left in the cache, and only those. */
static void
test_clean_stale_temporaries(void **state)
{
    char *dir = new_dir("stale");

    char *old_tmp = path_in(dir, "0123456789abcdef.tmp-AbCdEf");
    assert_int_equal(mkdir(old_tmp, 0700), 0);
    make_file(old_tmp, "0123456789abcdef.c", true);
    make_file(old_tmp, "0123456789abcdef.so", true);
    make_old(old_tmp);
    char *new_tmp = path_in(dir, "fedcba9876543210.tmp-XyZxyZ");
    assert_int_equal(mkdir(new_tmp, 0700), 0);
    make_file(new_tmp, "fedcba9876543210.c", false);
    make_file(dir, "0123456789abcdef.4242.c", true);   /* Older versions' */
    make_file(dir, "0123456789abcdef.4242.log", true); /* names. */
    make_file(dir, "0123456789abcdef.so", true);       /* A module. */
    make_file(dir, "notes.txt", true);                 /* Not the JIT's. */

    ps_jit_set_cache_dir(dir);
    jit_once(1040);

    static const char *const gone[] = {
        "0123456789abcdef.tmp-AbCdEf", "0123456789abcdef.4242.c",
        "0123456789abcdef.4242.log",
    };
    static const char *const kept[] = {
        "fedcba9876543210.tmp-XyZxyZ",
        ("fedcba9876543210.tmp-XyZxyZ/fedcba9876543210.c"),
        "0123456789abcdef.so", "notes.txt",
    };
    for (size_t i = 0; i < ARRAY_SIZE(gone); i++) {
        char *path = path_in(dir, gone[i]);
        if (!access(path, F_OK)) {
            fail_msg("%s is still there", path);
        }
        free(path);
    }
    for (size_t i = 0; i < ARRAY_SIZE(kept); i++) {
        char *path = path_in(dir, kept[i]);
        if (access(path, F_OK)) {
            fail_msg("%s is gone", path);
        }
        free(path);
    }
    assert_int_equal(count_modules(dir, NULL), 2);
    free(new_tmp);
    free(old_tmp);
    free(dir);
}

static double
elapsed_ms(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return ((now.tv_sec - start->tv_sec) * 1e3
            + (now.tv_nsec - start->tv_nsec) / 1e6);
}

/* Destroying AUTO encapsulations whose compiles are queued or running
 * returns at once; the pool compiles at most a few at a time, and drops
 * what it no longer needs. */
static void
test_destroy_does_not_wait(void **state)
{
    enum { N = 40 };
    char *dir = new_dir("destroy");
    struct ps_encap *encaps[N];
    struct ps_jit_stats before, during, after;
    struct timespec start;

    ps_jit_set_cache_dir(dir);
    ps_jit_wait_idle();
    ps_jit_get_stats(&before);
    for (int i = 0; i < N; i++) {
        assert_int_equal(make_encap(2000 + i, PS_TIER_AUTO, &encaps[i],
                                    NULL), PS_OK);
    }
    ps_jit_get_stats(&during);
    assert_true(during.running <= 2);
    assert_true(during.queued + during.running
                + (during.compiles - before.compiles) >= N);

    clock_gettime(CLOCK_MONOTONIC, &start);
    ps_encap_destroy(encaps[N - 1]);
    double newest = elapsed_ms(&start);
    clock_gettime(CLOCK_MONOTONIC, &start);
    ps_encap_destroy(encaps[0]);
    double oldest = elapsed_ms(&start);
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (int i = 1; i < N - 1; i++) {
        ps_encap_destroy(encaps[i]);
    }
    double rest = elapsed_ms(&start);
    print_message("destroy: newest %.3f ms, oldest %.3f ms, %d others "
                  "%.3f ms\n", newest, oldest, N - 2, rest);
    assert_true(newest < 50);
    assert_true(oldest < 50);
    assert_true(rest < 100);

    ps_jit_wait_idle();
    ps_jit_get_stats(&after);
    assert_int_equal(after.queued, 0);
    assert_int_equal(after.running, 0);
    /* Each compile was dropped (from the queue, or its result when it
     * arrived), or ended before its encapsulation was destroyed: only
     * those that had started were compiled. */
    unsigned long long dropped = after.dropped - before.dropped;
    unsigned long long compiled = after.compiles - before.compiles;
    print_message("%llu compiles dropped, %llu compiled\n", dropped,
                  compiled);
    assert_true(dropped <= N);
    assert_true(compiled < N / 2);
    assert_true(dropped + compiled >= N);
    free(dir);
}

/* A compile that cannot start, because the queue is full, is reported;
 * the encapsulation works with the interpreter. */
static void
test_queue_full(void **state)
{
    enum { MAX = 2000 };
    struct ps_encap **encaps = calloc(MAX, sizeof *encaps);
    struct ps_jit_stats before, after;
    char *error = NULL;
    int n;

    ps_jit_set_cache_dir(base_dir);
    ps_jit_get_stats(&before);
    for (n = 0; n < MAX && !error; n++) {
        assert_int_equal(make_encap(5000 + n, PS_TIER_AUTO, &encaps[n],
                                    NULL), PS_OK);
        error = ps_encap_jit_error(encaps[n]);
    }
    ps_jit_get_stats(&after);
    print_message("compile %d could not start: %s\n", n, error);
    assert_non_null(error);
    assert_non_null(strstr(error, "JIT queue is full"));
    free(error);
    assert_int_equal(after.not_started, before.not_started + 1);
    assert_int_equal(ps_encap_wait(encaps[n - 1]), PS_TIER_INTERP);
    for (int i = 0; i < n; i++) {
        ps_encap_destroy(encaps[i]);
    }
    free(encaps);
    ps_jit_wait_idle();
}

/* A background compile that cannot start or fails leaves the
 * interpreter running and says why. */
static void
test_auto_reports_failure(void **state)
{
    struct ps_jit_stats before, after;
    struct ps_encap *encap;

    ps_jit_wait_idle();
    setenv("PROTOSTACK_CC", "/nonexistent/cc", 1);
    ps_jit_get_stats(&before);
    assert_int_equal(make_encap(1050, PS_TIER_AUTO, &encap, NULL), PS_OK);
    assert_int_equal(ps_encap_wait(encap), PS_TIER_INTERP);
    ps_jit_get_stats(&after);
    assert_int_equal(after.failures, before.failures + 1);
    char *error = ps_encap_jit_error(encap);
    assert_non_null(error);
    assert_non_null(strstr(error, "cannot run compiler \"/nonexistent/cc\""));
    free(error);
    ps_encap_destroy(encap);

    setenv("PROTOSTACK_CC", "false", 1);
    assert_int_equal(make_encap(1051, PS_TIER_AUTO, &encap, NULL), PS_OK);
    assert_int_equal(ps_encap_wait(encap), PS_TIER_INTERP);
    error = ps_encap_jit_error(encap);
    assert_non_null(strstr(error, "compiler \"false\" failed (exit "
                           "status 1)"));
    free(error);
    ps_encap_destroy(encap);
    unsetenv("PROTOSTACK_CC");

    /* Success leaves no error. */
    assert_int_equal(make_encap(1052, PS_TIER_AUTO, &encap, NULL), PS_OK);
    assert_int_equal(ps_encap_wait(encap), PS_TIER_JIT);
    assert_null(ps_encap_jit_error(encap));
    ps_encap_destroy(encap);
}

/* A host that ignores SIGCHLD (its children are reaped by the kernel)
 * still compiles, and still learns the compiler's exit status. */
static void
test_sigchld_ignored(void **state)
{
    struct sigaction ign = { .sa_handler = SIG_IGN }, old;
    char *error = NULL;
    struct ps_encap *encap;

    ps_jit_wait_idle();
    assert_int_equal(sigaction(SIGCHLD, &ign, &old), 0);
    jit_once(1060);

    setenv("PROTOSTACK_CC", "false", 1);
    assert_int_equal(make_encap(1061, PS_TIER_JIT, &encap, &error),
                     PS_ERR_IO);
    assert_non_null(strstr(error, "failed (exit status 1)"));
    free(error);
    unsetenv("PROTOSTACK_CC");
    assert_int_equal(sigaction(SIGCHLD, &old, NULL), 0);
}

/* The compiler inherits no descriptor but 0, 1 and 2: neither one of the
 * host's without FD_CLOEXEC nor the JIT's own status pipe. */
static void
test_no_inherited_descriptors(void **state)
{
    const char *srcdir = getenv("PS_TEST_SRCDIR");
    char *cc;

    ps_jit_wait_idle();
    int fd = open("/dev/null", O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(dup2(fd, 47), 47);
    close(fd);
    assert_true(asprintf(&cc, "/bin/sh %s/jit-cc-fds.sh 3 4 47 -- cc",
                         srcdir ? srcdir : "tests") > 0);
    setenv("PROTOSTACK_CC", cc, 1);
    jit_once(1070);
    unsetenv("PROTOSTACK_CC");
    close(47);
    free(cc);
}

static int
child_auto(void *arg)
{
    struct ps_encap *encap;

    alarm(60);                  /* A pool that never runs fails here. */
    if (make_encap(1080, PS_TIER_AUTO, &encap, NULL)
        || ps_encap_wait(encap) != PS_TIER_JIT) {
        return 1;
    }
    ps_encap_destroy(encap);
    return 0;
}

/* A process forked after the pool started compiles in the background
 * with threads of its own. */
static void
test_fork_after_pool(void **state)
{
    struct ps_encap *encap;

    assert_int_equal(make_encap(1081, PS_TIER_AUTO, &encap, NULL), PS_OK);
    assert_int_equal(ps_encap_wait(encap), PS_TIER_JIT);
    ps_encap_destroy(encap);
    assert_int_equal(run_child(child_auto, NULL), 0);
}

static void *
cache_dir_thread(void *arg)
{
    return (void *) ps_jit_cache_dir();
}

/* ps_jit_cache_dir() returns one string per directory, valid for the
 * life of the process, whatever thread asks: nothing leaks when a thread
 * exits.  With no $HOME, the default is in the user's home directory
 * from the password database, not in /tmp. */
static void
test_cache_dir_string(void **state)
{
    ps_jit_set_cache_dir(base_dir);
    const char *dir = ps_jit_cache_dir();
    assert_string_equal(dir, base_dir);
    for (int i = 0; i < 4; i++) {
        pthread_t thread;
        void *other;
        assert_int_equal(pthread_create(&thread, NULL, cache_dir_thread,
                                        NULL), 0);
        assert_int_equal(pthread_join(thread, &other), 0);
        assert_ptr_equal(other, dir);
    }

    ps_jit_wait_idle();
    char *home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
    char *xdg = (getenv("XDG_CACHE_HOME") ? strdup(getenv("XDG_CACHE_HOME"))
                 : NULL);
    char *env = (getenv("PROTOSTACK_JIT_DIR")
                 ? strdup(getenv("PROTOSTACK_JIT_DIR")) : NULL);
    unsetenv("HOME");
    unsetenv("XDG_CACHE_HOME");
    unsetenv("PROTOSTACK_JIT_DIR");
    ps_jit_set_cache_dir(NULL);
    struct passwd *pw = getpwuid(geteuid());
    dir = ps_jit_cache_dir();
    if (pw && pw->pw_dir[0]) {
        char *expected;
        assert_true(asprintf(&expected, "%s/.cache/protostack/jit",
                             pw->pw_dir) > 0);
        assert_string_equal(dir, expected);
        free(expected);
    } else {
        assert_null(dir);
    }
    if (home) {
        setenv("HOME", home, 1);
    }
    if (xdg) {
        setenv("XDG_CACHE_HOME", xdg, 1);
    }
    if (env) {
        setenv("PROTOSTACK_JIT_DIR", env, 1);
    }
    free(home);
    free(xdg);
    free(env);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refuse_symlinked_object),
        cmocka_unit_test(test_concurrent_compiles),
        cmocka_unit_test(test_refuse_writable_dir),
        cmocka_unit_test(test_refuse_foreign_dir),
        cmocka_unit_test(test_clean_stale_temporaries),
        cmocka_unit_test(test_auto_reports_failure),
        cmocka_unit_test(test_sigchld_ignored),
        cmocka_unit_test(test_no_inherited_descriptors),
        cmocka_unit_test(test_destroy_does_not_wait),
        cmocka_unit_test(test_queue_full),
        cmocka_unit_test(test_fork_after_pool),
        cmocka_unit_test(test_cache_dir_string),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/* tinyinit - the example distro's PID 1.
 * SPDX-License-Identifier: MIT
 *
 * Static, no dependencies. At boot it:
 *   1. mounts /proc, /sys and /dev (proc, sysfs, devtmpfs) unless already mounted;
 *   2. sends its output to /dev/console;
 *   3. prints /etc/os-release;
 *   4. checks that / is read-only: statvfs() reports ST_RDONLY and creating a
 *      file fails with EROFS;
 *   5. runs /usr/bin/greet and waits for it;
 *   6. prints the marker line STRATA-BOOT-OK when / is read-only and greet
 *      exited 0, otherwise "STRATA-BOOT-FAILED: <reason>";
 *   7. syncs and powers the machine off.
 * Run as any PID other than 1 (a test), it skips the mounts and the power-off.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef TINYINIT_MARKER_OK
#define TINYINIT_MARKER_OK "STRATA-BOOT-OK"
#endif
#ifndef TINYINIT_MARKER_FAILED
#define TINYINIT_MARKER_FAILED "STRATA-BOOT-FAILED"
#endif
#ifndef TINYINIT_GREET
#define TINYINIT_GREET "/usr/bin/greet"
#endif
#ifndef TINYINIT_OS_RELEASE
#define TINYINIT_OS_RELEASE "/etc/os-release"
#endif
#define PROBE_PATH "/.tinyinit-write-probe"

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

/* Mounts fstype on target unless something is mounted there already. */
static int mount_once(const char *source, const char *target, const char *fstype,
		      unsigned long flags, const char *data)
{
	struct stat st, parent;
	char up[64];

	if (mkdir(target, 0755) != 0 && errno != EEXIST && errno != EROFS) {
		say("tinyinit: mkdir %s: %s\n", target, strerror(errno));
		return -1;
	}
	snprintf(up, sizeof up, "%s/..", target);
	if (stat(target, &st) == 0 && stat(up, &parent) == 0 && st.st_dev != parent.st_dev) {
		say("tinyinit: %s already mounted\n", target);
		return 0;
	}
	if (mount(source, target, fstype, flags, data) != 0) {
		if (errno == EBUSY)
			return 0;
		say("tinyinit: mount %s on %s: %s\n", fstype, target, strerror(errno));
		return -1;
	}
	say("tinyinit: mounted %s on %s\n", fstype, target);
	return 0;
}

/* Points stdin, stdout and stderr at /dev/console (if it can be opened). */
static void use_console(void)
{
	int fd = open("/dev/console", O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return;
	for (int i = 0; i <= 2; i++)
		dup2(fd, i);
	if (fd > 2)
		close(fd);
}

static void print_os_release(void)
{
	char buf[512];
	size_t n;
	FILE *f = fopen(TINYINIT_OS_RELEASE, "r");

	if (f == NULL) {
		say("tinyinit: cannot open %s: %s\n", TINYINIT_OS_RELEASE, strerror(errno));
		return;
	}
	say("tinyinit: --- %s ---\n", TINYINIT_OS_RELEASE);
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		fwrite(buf, 1, n, stdout);
	fclose(f);
	say("tinyinit: --- end of %s ---\n", TINYINIT_OS_RELEASE);
}

/* Returns 1 when / is read-only by both tests, 0 otherwise; why explains a 0. */
static int root_is_readonly(char *why, size_t size)
{
	struct statvfs sv;
	int flag_ro, write_ro, fd;

	if (statvfs("/", &sv) != 0) {
		snprintf(why, size, "statvfs(/): %s", strerror(errno));
		return 0;
	}
	flag_ro = (sv.f_flag & ST_RDONLY) != 0;
	say("tinyinit: statvfs(/): %s\n", flag_ro ? "ST_RDONLY set" : "ST_RDONLY not set");

	fd = open(PROBE_PATH, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0) {
		close(fd);
		unlink(PROBE_PATH);
		write_ro = 0;
		say("tinyinit: write probe on /: succeeded (root is writable)\n");
	} else {
		write_ro = errno == EROFS;
		say("tinyinit: write probe on /: %s%s\n", strerror(errno),
		    write_ro ? " (as expected)" : "");
	}
	if (!flag_ro)
		snprintf(why, size, "/ is not mounted read-only");
	else if (!write_ro)
		snprintf(why, size, "writing to / did not fail with EROFS");
	return flag_ro && write_ro;
}

/* Runs greet; returns its exit status, or -1 when it did not exit normally. */
static int run_greet(char *why, size_t size)
{
	char *const argv[] = { (char *)TINYINIT_GREET, NULL };
	char *const envp[] = { (char *)"PATH=/usr/sbin:/usr/bin", (char *)"HOME=/root",
			       (char *)"TERM=linux", (char *)"LANG=C", NULL };
	int status;
	pid_t pid, got;

	say("tinyinit: running %s\n", TINYINIT_GREET);
	pid = fork();
	if (pid < 0) {
		snprintf(why, size, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		execve(argv[0], argv, envp);
		say("tinyinit: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	/* As PID 1 we also reap orphans; wait until greet itself is done. */
	do {
		got = waitpid(-1, &status, 0);
	} while ((got != pid && got >= 0) || (got < 0 && errno == EINTR));
	if (got < 0) {
		snprintf(why, size, "waitpid: %s", strerror(errno));
		return -1;
	}
	if (WIFEXITED(status)) {
		say("tinyinit: %s exited with status %d\n", TINYINIT_GREET, WEXITSTATUS(status));
		if (WEXITSTATUS(status) != 0)
			snprintf(why, size, "%s exited with status %d", TINYINIT_GREET,
				 WEXITSTATUS(status));
		return WEXITSTATUS(status);
	}
	if (WIFSIGNALED(status)) {
		say("tinyinit: %s killed by signal %d\n", TINYINIT_GREET, WTERMSIG(status));
		snprintf(why, size, "%s killed by signal %d", TINYINIT_GREET, WTERMSIG(status));
	}
	return -1;
}

int main(void)
{
	char ro_why[160] = "", greet_why[160] = "";
	int is_init = getpid() == 1, ro, greet_status;

	if (is_init) {
		/* devtmpfs first: it provides /dev/console. */
		mount_once("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
		use_console();
		mount_once("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
		mount_once("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	} else {
		say("tinyinit: not PID 1: skipping mounts and power-off\n");
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	say("tinyinit: starting\n");

	print_os_release();
	ro = root_is_readonly(ro_why, sizeof ro_why);
	say("tinyinit: root filesystem is %s\n", ro ? "read-only" : "NOT read-only");
	greet_status = run_greet(greet_why, sizeof greet_why);

	if (ro && greet_status == 0)
		say("%s\n", TINYINIT_MARKER_OK);
	else
		say("%s: %s\n", TINYINIT_MARKER_FAILED, !ro ? ro_why : greet_why);

	sync();
	if (!is_init)
		return ro && greet_status == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
	say("tinyinit: powering off\n");
	reboot(RB_POWER_OFF);
	/* PID 1 must never exit (the kernel would panic): wait if power-off failed. */
	say("tinyinit: power-off failed: %s\n", strerror(errno));
	for (;;)
		pause();
}

/* greet - print a greeting from the example distro.
 * SPDX-License-Identifier: MIT
 *
 * Usage: greet [NAME]
 * Prints "Hello, NAME! Welcome to DISTRO." using libgreet. DISTRO is
 * PRETTY_NAME (or NAME) from /etc/os-release, or the distro name compiled in
 * when os-release is missing.
 */
#include <greet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef DISTRO_NAME
#error "DISTRO_NAME must be defined (the distro name as a C string)"
#endif

#ifndef OS_RELEASE
#define OS_RELEASE "/etc/os-release"
#endif

/* Reads KEY=VALUE from an os-release file into out; strips one level of
 * double or single quotes. Returns 0 when found. */
static int os_release_value(const char *path, const char *key, char *out, size_t size)
{
	char line[512];
	size_t keylen = strlen(key);
	FILE *f = fopen(path, "r");
	int found = -1;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL) {
		char *v;
		size_t n;

		if (strncmp(line, key, keylen) != 0 || line[keylen] != '=')
			continue;
		v = line + keylen + 1;
		n = strcspn(v, "\r\n");
		v[n] = '\0';
		if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
			v[n - 1] = '\0';
			v++;
		}
		if (v[0] == '\0')
			continue;
		snprintf(out, size, "%s", v);
		found = 0;
		break;
	}
	fclose(f);
	return found;
}

int main(int argc, char **argv)
{
	char distro[256];
	const char *who = argc > 1 ? argv[1] : NULL;

	if (os_release_value(OS_RELEASE, "PRETTY_NAME", distro, sizeof distro) != 0 &&
	    os_release_value(OS_RELEASE, "NAME", distro, sizeof distro) != 0)
		snprintf(distro, sizeof distro, "%s", DISTRO_NAME);

	if (greet_print(who, distro) != 0) {
		fprintf(stderr, "greet: cannot write the greeting\n");
		return EXIT_FAILURE;
	}
	return EXIT_SUCCESS;
}

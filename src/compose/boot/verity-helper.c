/*
 * strata-verity: the one thing the boot-test initramfs cannot do with busybox
 * alone. It finds the data and hash partitions by PARTUUID (reading the GPT of
 * every disk in /sys/block, since the kernel exposes no PARTUUID in sysfs),
 * reads the dm-verity superblock veritysetup wrote at the start of the hash
 * partition, and creates a read-only verity device through the device-mapper
 * ioctls. Static, no libraries: the same source serves x86_64 and aarch64.
 *
 *   strata-verity NAME DATA HASH ROOTHASH   create /dev/mapper/NAME
 *   strata-verity resolve SPEC               print the device SPEC names
 *
 * DATA, HASH and SPEC are "PARTUUID=<uuid>" or a device path.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <linux/dm-ioctl.h>

static void die(const char *what) {
  fprintf(stderr, "strata-verity: %s: %s\n", what, errno ? strerror(errno) : "failed");
  exit(1);
}

static int read_at(int fd, void *buf, size_t len, off_t off) {
  return pread(fd, buf, len, off) == (ssize_t)len ? 0 : -1;
}

/* GPT stores the first three GUID fields little-endian. */
static void guid_to_text(const uint8_t *g, char *out) {
  sprintf(out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
          g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6], g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15]);
}

/* The 1-based partition number carrying `uuid` on /dev/DISK, or 0. */
static unsigned find_in_disk(const char *disk, const char *uuid) {
  char path[300];
  snprintf(path, sizeof path, "/dev/%s", disk);
  int fd = open(path, O_RDONLY);
  if (fd < 0) return 0;
  uint8_t hdr[92];
  unsigned found = 0;
  if (read_at(fd, hdr, sizeof hdr, 512) == 0 && memcmp(hdr, "EFI PART", 8) == 0) {
    uint64_t entries_lba;
    uint32_t count, size;
    memcpy(&entries_lba, hdr + 72, 8);
    memcpy(&count, hdr + 80, 4);
    memcpy(&size, hdr + 84, 4);
    uint8_t entry[128];
    for (uint32_t i = 0; i < count && i < 256 && size >= 128 && !found; i++) {
      if (read_at(fd, entry, sizeof entry, (off_t)entries_lba * 512 + (off_t)i * size) != 0) break;
      char text[37];
      guid_to_text(entry + 16, text);
      if (strcasecmp(text, uuid) == 0) found = i + 1;
    }
  }
  close(fd);
  return found;
}

/* Resolves "PARTUUID=<uuid>" to /dev/vda1-style paths; anything else is a path already. */
static void resolve(const char *spec, char *out, size_t outlen) {
  if (strncmp(spec, "PARTUUID=", 9) != 0) {
    snprintf(out, outlen, "%s", spec);
    return;
  }
  DIR *dir = opendir("/sys/block");
  if (dir == NULL) die("/sys/block");
  struct dirent *d;
  while ((d = readdir(dir)) != NULL) {
    if (d->d_name[0] == '.' || strncmp(d->d_name, "dm-", 3) == 0 || strncmp(d->d_name, "loop", 4) == 0) continue;
    unsigned n = find_in_disk(d->d_name, spec + 9);
    if (n > 0 && strlen(d->d_name) < 200) {
      size_t len = strlen(d->d_name);
      /* nvme0n1 → nvme0n1p1, vda → vda1: the kernel's own naming rule. */
      snprintf(out, outlen, "/dev/%s%s%u", d->d_name, isdigit((unsigned char)d->d_name[len - 1]) ? "p" : "", n);
      closedir(dir);
      return;
    }
  }
  closedir(dir);
  fprintf(stderr, "strata-verity: no partition with %s\n", spec);
  exit(1);
}

struct verity_sb {
  uint8_t signature[8];
  uint32_t version;
  uint32_t hash_type;
  uint8_t uuid[16];
  char algorithm[32];
  uint32_t data_block_size;
  uint32_t hash_block_size;
  uint64_t data_blocks;
  uint16_t salt_size;
  uint8_t pad1[6];
  uint8_t salt[256];
  uint8_t pad2[168];
} __attribute__((packed));

static void dm_init(struct dm_ioctl *io, size_t size, const char *name) {
  memset(io, 0, size);
  io->version[0] = DM_VERSION_MAJOR;
  io->version[1] = 0;
  io->version[2] = 0;
  io->data_size = (uint32_t)size;
  io->data_start = sizeof(struct dm_ioctl);
  snprintf(io->name, sizeof io->name, "%s", name);
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "resolve") == 0) {
    char device[300];
    resolve(argv[2], device, sizeof device);
    printf("%s\n", device);
    return 0;
  }
  if (argc != 5) {
    fprintf(stderr, "usage: strata-verity NAME DATA HASH ROOTHASH | strata-verity resolve SPEC\n");
    return 2;
  }
  const char *name = argv[1];
  char data[300], hash[300];
  resolve(argv[2], data, sizeof data);
  resolve(argv[3], hash, sizeof hash);

  struct verity_sb sb;
  int hfd = open(hash, O_RDONLY);
  if (hfd < 0 || read_at(hfd, &sb, sizeof sb, 0) != 0) die(hash);
  close(hfd);
  if (memcmp(sb.signature, "verity\0\0", 8) != 0 || sb.version != 1) {
    fprintf(stderr, "strata-verity: %s holds no verity superblock\n", hash);
    return 1;
  }
  if (sb.salt_size > sizeof sb.salt) die("salt size");
  char salt[2 * sizeof sb.salt + 2] = "-";
  for (unsigned i = 0; i < sb.salt_size; i++) sprintf(salt + 2 * i, "%02x", sb.salt[i]);
  char algorithm[33];
  memcpy(algorithm, sb.algorithm, 32);
  algorithm[32] = '\0';

  /* The tree starts one hash block in: the superblock occupies block 0. */
  char params[2048];
  snprintf(params, sizeof params, "%u %s %s %u %u %llu 1 %s %s %s", sb.hash_type, data, hash, sb.data_block_size,
           sb.hash_block_size, (unsigned long long)sb.data_blocks, algorithm, argv[4], salt);

  int ctl = open("/dev/mapper/control", O_RDWR);
  if (ctl < 0) die("/dev/mapper/control");

  union {
    struct dm_ioctl io;
    char bytes[16384];
  } buf;
  dm_init(&buf.io, sizeof(struct dm_ioctl), name);
  if (ioctl(ctl, DM_DEV_CREATE, &buf.io) != 0) die("DM_DEV_CREATE");
  dev_t dev = (dev_t)buf.io.dev;

  dm_init(&buf.io, sizeof buf, name);
  buf.io.target_count = 1;
  buf.io.flags = DM_READONLY_FLAG;
  struct dm_target_spec *spec = (struct dm_target_spec *)(buf.bytes + sizeof(struct dm_ioctl));
  spec->sector_start = 0;
  spec->length = sb.data_blocks * (sb.data_block_size / 512);
  snprintf(spec->target_type, sizeof spec->target_type, "verity");
  snprintf((char *)(spec + 1), sizeof buf - sizeof(struct dm_ioctl) - sizeof *spec, "%s", params);
  if (ioctl(ctl, DM_TABLE_LOAD, &buf.io) != 0) die("DM_TABLE_LOAD (is the root hash right?)");

  /* DM_DEV_SUSPEND without DM_SUSPEND_FLAG resumes: the loaded table goes live. */
  dm_init(&buf.io, sizeof(struct dm_ioctl), name);
  if (ioctl(ctl, DM_DEV_SUSPEND, &buf.io) != 0) die("DM_DEV_SUSPEND");
  close(ctl);

  char node[300];
  snprintf(node, sizeof node, "/dev/mapper/%s", name);
  mkdir("/dev/mapper", 0755);
  unlink(node);
  if (mknod(node, S_IFBLK | 0600, makedev(major(dev), minor(dev))) != 0) die(node);
  printf("%s: verity over %s (hash %s), %llu blocks\n", node, data, hash, (unsigned long long)sb.data_blocks);
  return 0;
}

/**
 * /init of the boot-test initramfs (busybox sh). It reads the same kernel
 * arguments systemd would (roothash=/usrhash=, systemd.verity_*_data/hash=,
 * rootfstype=, mount.usr*=, init=), opens verity with strata-verity, reads the
 * whole verity device once so that a flipped byte anywhere in the image fails
 * the boot at once, mounts the image read-only and hands over to its init.
 * Every failure prints one STRATA-INITRAMFS-FAILED line and powers off.
 */
export const FAILURE_MARKER = 'STRATA-INITRAMFS-FAILED';

export const INIT_SCRIPT = `#!/bin/sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

fail() {
  echo "${FAILURE_MARKER}: $*"
  poweroff -f
  sleep 10
}

for module in $(cat /etc/strata/modules); do
  insmod "/lib/modules/$module" || fail "cannot load $module"
done

arg() {
  for word in $(cat /proc/cmdline); do
    case "$word" in "$1="*) echo "\${word#*=}" ;; esac
  done
}

# The disk appears asynchronously after virtio_blk loads.
resolve() {
  tries=0
  until strata-verity resolve "$1" 2>/dev/null; do
    tries=$((tries + 1))
    [ $tries -gt 100 ] && fail "no device for $1"
    sleep 0.1
  done
}

# open_verity NAME DATA HASH ROOTHASH: creates /dev/mapper/NAME and reads it end to end.
open_verity() {
  resolve "$2" >/dev/null
  resolve "$3" >/dev/null
  strata-verity "$1" "$2" "$3" "$4" || fail "verity: cannot open $1"
  dd if="/dev/mapper/$1" of=/dev/null bs=1M 2>/dev/null || fail "verity: $1 does not match its root hash (corrupted data)"
}

mkdir -p /newroot
roothash=$(arg roothash)
usrhash=$(arg usrhash)
if [ -n "$usrhash" ] || [ -n "$(arg mount.usr)" ]; then
  mount -t tmpfs -o mode=0755 tmpfs /newroot || fail "cannot mount the tmpfs root"
  mkdir -p /newroot/usr /newroot/etc /newroot/var /newroot/dev /newroot/proc /newroot/sys /newroot/run /newroot/tmp
  usr=$(arg mount.usr)
  if [ -n "$usrhash" ]; then
    open_verity usr "$(arg systemd.verity_usr_data)" "$(arg systemd.verity_usr_hash)" "$usrhash"
    usr=/dev/mapper/usr
  else
    usr=$(resolve "$usr")
  fi
  mount -t "$(arg mount.usrfstype)" -o ro "$usr" /newroot/usr || fail "cannot mount /usr from $usr"
  for link in bin sbin lib lib64; do [ -e "/newroot/usr/$link" ] && ln -s "usr/$link" "/newroot/$link"; done
  [ -d /newroot/usr/share/factory/etc ] && cp -a /newroot/usr/share/factory/etc/. /newroot/etc/
else
  root=$(arg root)
  if [ -n "$roothash" ]; then
    open_verity root "$(arg systemd.verity_root_data)" "$(arg systemd.verity_root_hash)" "$roothash"
    root=/dev/mapper/root
  else
    root=$(resolve "$root")
  fi
  mount -t "$(arg rootfstype)" -o ro "$root" /newroot || fail "cannot mount the root from $root"
fi

init=$(arg init)
[ -x "/newroot$init" ] || fail "the image has no executable init at $init"
for fs in dev proc sys; do
  if [ -d "/newroot/$fs" ]; then mount --move "/$fs" "/newroot/$fs"; else umount -l "/$fs"; fi
done
exec switch_root /newroot "$init"
`;

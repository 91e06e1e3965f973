#!/bin/sh
# tests/agent/rauc_fixture.sh DIR - a RAUC system without hardware in DIR, for
# integration_rauc_installer_test (the way RAUC's own test suite runs):
#   DIR/keys/      a test CA (the keyring), a signing cert it issued, and an
#                  unrelated self-signed "rogue" cert
#   DIR/system.conf  compatible "xiot-test", bootloader=custom, two raw slots
#                  rootfs.0 (bootname A) and rootfs.1 (B) backed by image files
#   DIR/slots/     rootfs-0.img, rootfs-1.img (1 MiB each)
#   DIR/backend    the custom bootloader backend: PRIMARY and STATE_A/STATE_B
#                  kept in DIR/boot-state (get/set-primary, get/set-state); like
#                  a real bootloader, set-primary also makes the slot bootable
#                  (RAUC marks the target bad before writing it)
#   DIR/good.raucb a bundle with a 512 KiB rootfs image, signed by the CA's cert
#   DIR/rogue.raucb the same content signed by the rogue cert (wrong key)
# Needs: openssl, rauc, mksquashfs (squashfs-tools).
set -eu
dir=$1
mkdir -p "$dir/keys" "$dir/slots" "$dir/content" "$dir/mnt"
cd "$dir"
q() { "$@" >/dev/null 2>&1 || { echo "rauc_fixture: failed: $*" >&2; "$@"; exit 1; }; }

q openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
  -subj "/CN=xiot test RAUC CA" -keyout keys/ca.key -out keys/ca.pem \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
q openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -subj "/CN=xiot test RAUC signer" -keyout keys/signer.key -out keys/signer.csr
printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n' > keys/signer.ext
q openssl x509 -req -in keys/signer.csr -CA keys/ca.pem -CAkey keys/ca.key -CAcreateserial \
  -days 3650 -extfile keys/signer.ext -out keys/signer.pem
q openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
  -subj "/CN=rogue signer" -keyout keys/rogue.key -out keys/rogue.pem

truncate -s 1M slots/rootfs-0.img slots/rootfs-1.img
printf 'PRIMARY=A\nSTATE_A=good\nSTATE_B=good\n' > boot-state

cat > backend <<EOB
#!/bin/sh
# RAUC custom bootloader backend over $dir/boot-state (rauc_fixture.sh).
f='$dir/boot-state'
get() { sed -n "s/^\$1=//p" "\$f"; }
set_() { sed -i "s/^\$1=.*/\$1=\$2/" "\$f"; }
case "\$1" in
  get-primary) p=\$(get PRIMARY); [ "\$(get STATE_\$p)" = good ] && echo "\$p"; exit 0 ;;
  set-primary) set_ PRIMARY "\$2"; set_ "STATE_\$2" good ;;
  get-state) get "STATE_\$2" ;;
  set-state) set_ "STATE_\$2" "\$3" ;;
  get-current) get PRIMARY ;;
  *) echo "backend: unknown command \$1" >&2; exit 1 ;;
esac
EOB
chmod 755 backend

cat > system.conf <<EOC
[system]
compatible=xiot-test
bootloader=custom
data-directory=$dir/data

[handlers]
bootloader-custom-backend=$dir/backend

[keyring]
path=$dir/keys/ca.pem

[slot.rootfs.0]
device=$dir/slots/rootfs-0.img
type=raw
bootname=A

[slot.rootfs.1]
device=$dir/slots/rootfs-1.img
type=raw
bootname=B
EOC

head -c 524288 /dev/urandom > content/rootfs.img
cat > content/manifest.raucm <<EOM
[update]
compatible=xiot-test
version=2.0.0

[image.rootfs]
filename=rootfs.img
EOM
q rauc bundle --cert=keys/signer.pem --key=keys/signer.key content good.raucb
q rauc bundle --cert=keys/rogue.pem --key=keys/rogue.key content rogue.raucb
echo "rauc_fixture: ready in $dir"

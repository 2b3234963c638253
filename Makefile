# pcon: process containers and per-container statistics.
# make deps | make | make check | make check-guest | make bench | make demo | make install PREFIX=...

PREFIX   ?= /usr/local
B        ?= build
CC       ?= gcc
CLANG    ?= clang
BPFTOOL  ?= bpftool
VERSION  := 0.1.0
SONAME   := libpcon.so.0

# Debian packages: `make deps` installs what building and running pcon needs,
# `make deps-test` also what the tests and benchmarks use (both idempotent).
DEB_PKGS := build-essential pkg-config clang llvm libbpf-dev bpftool libelf-dev \
            zlib1g-dev libmnl-dev libinih-dev libncurses-dev libsmartcols-dev scdoc
DEB_TEST := libcmocka-dev jq valgrind tmux prometheus lxcfs curl python3 libfuse3-dev fuse3 \
            qemu-system-x86 linux-image-amd64 busybox-static

WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wno-missing-field-initializers
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 $(WARN) -fPIC -fvisibility=hidden -D_GNU_SOURCE \
            -Iinclude -Ilib -I$(B)/gen
ifeq ($(SAN),1)
CFLAGS   += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS  += -fsanitize=address,undefined
endif
LDLIBS   := -lmnl -lbpf -lelf -lz -lm

LIB_SRCS := $(sort $(wildcard lib/*.c lib/subsys/*.c))
LIB_OBJS := $(LIB_SRCS:%.c=$(B)/obj/%.o)
BPF_SRCS := $(sort $(wildcard lib/bpf/*.bpf.c))
BPF_SKELS:= $(BPF_SRCS:lib/bpf/%.bpf.c=$(B)/gen/%.skel.h)
CLI_SRCS := $(sort $(wildcard src/pcon/*.c))
CLI_OBJS := $(CLI_SRCS:%.c=$(B)/obj/%.o)
D_SRCS   := $(sort $(wildcard src/pcond/*.c))
D_OBJS   := $(D_SRCS:%.c=$(B)/obj/%.o)
UNIT     := $(patsubst tests/%.c,$(B)/tests/%,$(sort $(wildcard tests/unit/*.c)))
INTEG    := $(patsubst tests/%.c,$(B)/tests/%,$(sort $(wildcard tests/integration/*.c)))
BENCH    := $(patsubst bench/%.c,$(B)/bench/%,$(sort $(wildcard bench/*.c)))
PROGS    := $(B)/pcon $(if $(D_SRCS),$(B)/pcond)
MANS     := $(patsubst man/%.scd,$(B)/man/%,$(wildcard man/*.scd))
FUZZ     := $(patsubst tests/fuzz/%.c,$(B)/fuzz/%,$(sort $(wildcard tests/fuzz/*.c)))

all: $(B)/libpcon.a $(B)/$(SONAME) $(B)/libpcon.pc $(PROGS) $(UNIT) $(INTEG) $(BENCH) $(MANS) $(FUZZ)

# Install the packages of $(1) that are missing.
define apt_install
	@if dpkg-query -W -f='$${Status}\n' $(1) 2>/dev/null | grep -qv 'install ok installed' \
	   || [ $$(dpkg-query -W -f='$${Status}\n' $(1) 2>/dev/null | wc -l) -ne $(words $(1)) ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(1); \
	fi
endef

deps:
	$(call apt_install,$(DEB_PKGS))

deps-test:
	$(call apt_install,$(DEB_PKGS) $(DEB_TEST))

$(B)/obj/%.o: %.c $(wildcard include/pcon/*.h lib/*.h src/pcon/*.h src/pcond/*.h) $(BPF_SKELS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

# eBPF: CO-RE objects from the running kernel's BTF, wrapped as skeleton headers.
$(B)/gen/vmlinux.h:
	@mkdir -p $(dir $@)
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

$(B)/gen/%.bpf.o: lib/bpf/%.bpf.c $(wildcard lib/bpf/*.h) $(B)/gen/vmlinux.h
	$(CLANG) -O2 -g -target bpf -D__TARGET_ARCH_x86 -I$(B)/gen -Ilib/bpf -c $< -o $@
	llvm-strip -g $@

$(B)/gen/%.skel.h: $(B)/gen/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@.tmp && mv $@.tmp $@

$(B)/libpcon.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(B)/$(SONAME): $(LIB_OBJS) lib/libpcon.sym
	$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=lib/libpcon.sym $(LDFLAGS) -o $@ $(LIB_OBJS) $(LDLIBS)
	ln -sf $(SONAME) $(B)/libpcon.so

$(B)/libpcon.pc: libpcon.pc.in
	@mkdir -p $(dir $@)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' $< > $@

$(B)/pcon: $(CLI_OBJS) $(B)/libpcon.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lsmartcols -lncursesw -linih

$(B)/pcond: $(D_OBJS) $(B)/libpcon.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/tests/%: $(B)/obj/tests/%.o $(B)/obj/tests/pcontest.o $(B)/libpcon.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka -lpthread

# test_block_io serves a FUSE file system from inside the test.
$(B)/tests/integration/test-taskstate: private LDLIBS += -lfuse3

$(B)/bench/%: $(B)/obj/bench/%.o $(B)/libpcon.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lpthread

$(B)/obj/tests/%.o: tests/%.c $(wildcard include/pcon/*.h lib/*.h tests/*/*.h) $(BPF_SKELS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests -c $< -o $@

# libFuzzer targets (clang): each includes the pure source file it fuzzes.
$(B)/fuzz/%: tests/fuzz/%.c lib/proto.c lib/proto.h
	@mkdir -p $(dir $@)
	$(CLANG) -g -O1 -std=gnu11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -Iinclude $< -o $@

# Unit tests first on the plain build, then the whole suite under ASan+UBSan.
check: deps-test
	$(MAKE) all
	$(MAKE) all B=build-san SAN=1
	tests/run build build-san

# Only the guest lane (tests/guest/): Debian's kernel in QEMU, three cgroup layouts.
check-guest: deps-test
	$(MAKE) all
	tests/run --guest-only build

bench: deps-test all
	bench/run $(B)

# Only what running pcon needs: the programs and their man pages.
demo: deps $(B)/pcon $(B)/pcond $(MANS)
	$(B)/pcon stats

$(B)/man/%: man/%.scd
	@mkdir -p $(dir $@)
	scdoc < $< > $@

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig \
		$(DESTDIR)$(PREFIX)/include/pcon $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(PROGS) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(B)/libpcon.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(B)/$(SONAME) $(DESTDIR)$(PREFIX)/lib/
	ln -sf $(SONAME) $(DESTDIR)$(PREFIX)/lib/libpcon.so
	install -m 644 include/pcon/*.h $(DESTDIR)$(PREFIX)/include/pcon/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' libpcon.pc.in \
		> $(DESTDIR)$(PREFIX)/lib/pkgconfig/libpcon.pc
	for m in $(MANS); do \
		install -D -m 644 $$m $(DESTDIR)$(PREFIX)/share/man/man$${m##*.}/$${m##*/}; done
	install -d $(DESTDIR)$(PREFIX)/lib/systemd/system
	sed 's|@PREFIX@|$(PREFIX)|' contrib/pcond.service.in > $(DESTDIR)$(PREFIX)/lib/systemd/system/pcond.service
	install -m 644 contrib/pcond.socket $(DESTDIR)$(PREFIX)/lib/systemd/system/pcond.socket
	sed 's|@PREFIX@|$(PREFIX)|' contrib/pcon-apply.service.in > $(DESTDIR)$(PREFIX)/lib/systemd/system/pcon-apply.service
	install -D -m 644 contrib/pcon.bash-completion $(DESTDIR)$(PREFIX)/share/bash-completion/completions/pcon

clean:
	rm -rf build build-san

.PHONY: all deps deps-test check check-guest bench demo install clean
.SECONDARY:

/* test_inject.c: the readers of remote attach (launcher/inject_parse.c): the
 * lines of /proc/PID/maps and the dynamic symbols of an ELF file, both taken
 * from a process that may be anyone's, so malformed input is half the tests.
 * The injection itself runs in tests/e2e/test_attach.py on real processes. */
#define _GNU_SOURCE /* RTLD_NOLOAD */
#include <check.h>
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../../launcher/inject.h"

START_TEST(test_inject_maps_reads_every_kind_of_line)
{
    const char *text = "00400000-00a7e000 r-xp 00000000 fe:00 1336921   /usr/bin/python3.11\n"
                       "258ef000-25bae000 rw-p 00000000 00:00 0                 [heap]\n"
                       "7f7fd8000000-7f7fd8032000 rw-p 00000000 00:00 0 \n"
                       "7f00-7f10 r--s 0001f000 08:01 18446744073709551615 /tmp/a b (deleted)\n"
                       "7fff0000-7fff1000 -w-p 00000000 00:00 0 /x";
    struct vt_inject_map m;
    ck_assert_int_eq(vt_inject_maps_next(&text, &m), 1);
    ck_assert_uint_eq(m.start, 0x400000);
    ck_assert_uint_eq(m.end, 0xa7e000);
    ck_assert_uint_eq(m.offset, 0);
    ck_assert_int_eq(m.prot, PROT_READ | PROT_EXEC);
    ck_assert_str_eq(m.path, "/usr/bin/python3.11");
    ck_assert_int_eq(m.deleted, 0);
    ck_assert_int_eq(vt_inject_maps_next(&text, &m), 1);
    ck_assert_str_eq(m.path, "[heap]");
    ck_assert_int_eq(m.prot, PROT_READ | PROT_WRITE);
    ck_assert_int_eq(vt_inject_maps_next(&text, &m), 1);
    ck_assert_uint_eq(m.start, 0x7f7fd8000000ull);
    ck_assert_str_eq(m.path, "");
    /* a 20-digit inode, a blank in the path, a file since removed */
    ck_assert_int_eq(vt_inject_maps_next(&text, &m), 1);
    ck_assert_uint_eq(m.offset, 0x1f000);
    ck_assert_int_eq(m.prot, PROT_READ);
    ck_assert_str_eq(m.path, "/tmp/a b");
    ck_assert_int_eq(m.deleted, 1);
    /* the last line needs no newline */
    ck_assert_int_eq(vt_inject_maps_next(&text, &m), 1);
    ck_assert_int_eq(m.prot, PROT_WRITE);
    ck_assert_str_eq(m.path, "/x");
    ck_assert_int_eq(vt_inject_maps_next(&text, &m), 0);
    ck_assert_int_eq(vt_inject_maps_next(&text, &m), 0);
}
END_TEST

/* One malformed line, then a good one: the bad one is skipped. */
static void
check_bad_line(const char *bad)
{
    char text[8192];
    snprintf(text, sizeof(text), "%s\n1000-2000 r-xp 00000000 00:00 0 /ok\n", bad);
    const char *p = text;
    struct vt_inject_map m;
    ck_assert_msg(vt_inject_maps_next(&p, &m) == -1, "accepted: %s", bad);
    ck_assert_int_eq(vt_inject_maps_next(&p, &m), 1);
    ck_assert_str_eq(m.path, "/ok");
    ck_assert_int_eq(vt_inject_maps_next(&p, &m), 0);
}

START_TEST(test_inject_maps_skips_malformed_lines)
{
    check_bad_line("");
    check_bad_line("garbage");
    check_bad_line("2000-1000 r-xp 00000000 00:00 0 /end-before-start");
    check_bad_line("1000-2000 rwxq 00000000 00:00 0 /bad-perms");
    check_bad_line("1000-2000 r-x");
    check_bad_line("1000-2000 r-xp zz 00:00 0 /bad-offset");
    check_bad_line("1000-2000 r-xp 0 0000 0 /bad-dev");
    check_bad_line("1000-2000 r-xp 0 00:00 x /bad-inode");
    check_bad_line("1000-2000 r-xp 0 00:00 12x /bad-inode");
    check_bad_line("11112222333344445-2000 r-xp 0 00:00 0 /17-digits");
    /* a path longer than PATH_MAX */
    char *longline = malloc(PATH_MAX + 64);
    int n = snprintf(longline, PATH_MAX + 64, "1000-2000 r-xp 0 00:00 0 /");
    memset(longline + n, 'a', PATH_MAX);
    longline[n + PATH_MAX] = '\0';
    const char *p = longline;
    struct vt_inject_map m;
    ck_assert_int_eq(vt_inject_maps_next(&p, &m), -1);
    ck_assert_int_eq(vt_inject_maps_next(&p, &m), 0);
    free(longline);
}
END_TEST

/* A small ELF64 x86-64 image: one PT_LOAD (vaddr 0x400000, file 0..0x300,
 * memory to 0x2000), sections null/.dynsym/.dynstr, and these symbols. */
#define IMG_LEN 0x300
struct img {
    unsigned char b[IMG_LEN];
};

static void
build(struct img *im)
{
    memset(im, 0, sizeof(*im));
    Elf64_Ehdr eh = {0};
    memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_type = ET_EXEC;
    eh.e_machine = EM_X86_64;
    eh.e_phoff = 0x40;
    eh.e_phentsize = sizeof(Elf64_Phdr);
    eh.e_phnum = 1;
    eh.e_shoff = 0x80;
    eh.e_shentsize = sizeof(Elf64_Shdr);
    eh.e_shnum = 3;
    memcpy(im->b, &eh, sizeof(eh));
    Elf64_Phdr ph = {.p_type = PT_LOAD,
                     .p_offset = 0,
                     .p_vaddr = 0x400000,
                     .p_filesz = IMG_LEN,
                     .p_memsz = 0x2000};
    memcpy(im->b + 0x40, &ph, sizeof(ph));
    Elf64_Shdr sh[3] = {{0}};
    sh[1].sh_type = SHT_DYNSYM;
    sh[1].sh_offset = 0x180;
    sh[1].sh_size = 6 * sizeof(Elf64_Sym);
    sh[1].sh_entsize = sizeof(Elf64_Sym);
    sh[1].sh_link = 2;
    sh[2].sh_type = SHT_STRTAB;
    sh[2].sh_offset = 0x2a0;
    sh[2].sh_size = 0x40;
    memcpy(im->b + 0x80, sh, sizeof(sh));
    static const char strs[] = "\0alpha\0beta\0gamma\0local\0data";
    memcpy(im->b + 0x2a0, strs, sizeof(strs));
    Elf64_Sym sy[6] = {{0}};
    /* alpha: a function at file offset 0x210 */
    sy[1] = (Elf64_Sym){.st_name = 1,
                        .st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC),
                        .st_shndx = 1,
                        .st_value = 0x400210,
                        .st_size = 16};
    /* beta: undefined (imported) */
    sy[2] = (Elf64_Sym){.st_name = 7, .st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC)};
    /* gamma: a weak function */
    sy[3] = (Elf64_Sym){.st_name = 12,
                        .st_info = ELF64_ST_INFO(STB_WEAK, STT_FUNC),
                        .st_shndx = 1,
                        .st_value = 0x400220};
    /* local: not global */
    sy[4] = (Elf64_Sym){.st_name = 18,
                        .st_info = ELF64_ST_INFO(STB_LOCAL, STT_FUNC),
                        .st_shndx = 1,
                        .st_value = 0x400230};
    /* data: an object past the file's end (.bss), 0x40 bytes */
    sy[5] = (Elf64_Sym){.st_name = 24,
                        .st_info = ELF64_ST_INFO(STB_GLOBAL, STT_OBJECT),
                        .st_shndx = 1,
                        .st_value = 0x401000,
                        .st_size = 0x40};
    memcpy(im->b + 0x180, sy, sizeof(sy));
}

static const char *const names[] = {"alpha", "beta", "gamma", "local", "data", "missing"};
#define NNAMES (sizeof(names) / sizeof(names[0]))

START_TEST(test_inject_elf_finds_defined_globals)
{
    struct img im;
    build(&im);
    uint64_t offs[NNAMES], sizes[NNAMES];
    ck_assert_int_eq(vt_inject_elf_lookup(im.b, IMG_LEN, names, NNAMES, offs, sizes), VT_OK);
    ck_assert_uint_eq(offs[0], 0x210);
    ck_assert_uint_eq(sizes[0], 16);
    ck_assert_uint_eq(offs[1], 0);
    ck_assert_uint_eq(offs[2], 0x220);
    ck_assert_uint_eq(offs[3], 0);
    ck_assert_uint_eq(offs[4], 0x1000); /* past the file, inside the segment */
    ck_assert_uint_eq(sizes[4], 0x40);
    ck_assert_uint_eq(offs[5], 0);
    ck_assert_int_eq(vt_inject_elf_lookup(im.b, IMG_LEN, names, NNAMES, offs, NULL), VT_OK);
    ck_assert_uint_eq(offs[0], 0x210);
}
END_TEST

/* Breaks one field of the image with a byte at off; expects FORMAT or no
 * symbol found, never a read out of bounds (ASan watches the unit tests). */
static void
check_broken(size_t off, const void *bytes, size_t n, enum vt_err want)
{
    struct img im;
    build(&im);
    memcpy(im.b + off, bytes, n);
    uint64_t offs[NNAMES] = {1, 1, 1, 1, 1, 1};
    ck_assert_int_eq(vt_inject_elf_lookup(im.b, IMG_LEN, names, NNAMES, offs, NULL), want);
    if (want != VT_OK)
        for (size_t i = 0; i < NNAMES; i++)
            ck_assert_uint_eq(offs[i], 0);
}

START_TEST(test_inject_elf_refuses_broken_images)
{
    struct img im;
    build(&im);
    uint64_t offs[NNAMES];
    for (size_t len = 0; len < IMG_LEN; len += 7) /* every truncation */
        ck_assert_int_eq(vt_inject_elf_lookup(im.b, len, names, NNAMES, offs, NULL),
                         len < 0x2e0 ? VT_ERR_FORMAT : VT_OK);
    uint8_t b32 = ELFCLASS32, be = ELFDATA2MSB;
    uint16_t arm = EM_AARCH64, rel = ET_REL, many = 0xffff, odd = 12;
    uint64_t huge = 0xfffffffffffffff0ull;
    uint32_t bad_link = 7, not_strtab = SHT_PROGBITS;
    check_broken(EI_CLASS, &b32, 1, VT_ERR_FORMAT);
    check_broken(EI_DATA, &be, 1, VT_ERR_FORMAT);
    check_broken(offsetof(Elf64_Ehdr, e_machine), &arm, 2, VT_ERR_FORMAT);
    check_broken(offsetof(Elf64_Ehdr, e_type), &rel, 2, VT_ERR_FORMAT);
    check_broken(offsetof(Elf64_Ehdr, e_phnum), &many, 2, VT_ERR_FORMAT);
    check_broken(offsetof(Elf64_Ehdr, e_shnum), &many, 2, VT_ERR_FORMAT);
    check_broken(offsetof(Elf64_Ehdr, e_phentsize), &odd, 2, VT_ERR_FORMAT);
    check_broken(offsetof(Elf64_Ehdr, e_shoff), &huge, 8, VT_ERR_FORMAT);
    /* .dynsym's size, its link, its strings' type and offset */
    size_t dynsym = 0x80 + sizeof(Elf64_Shdr);
    check_broken(dynsym + offsetof(Elf64_Shdr, sh_size), &huge, 8, VT_ERR_FORMAT);
    check_broken(dynsym + offsetof(Elf64_Shdr, sh_offset), &huge, 8, VT_ERR_FORMAT);
    check_broken(dynsym + offsetof(Elf64_Shdr, sh_link), &bad_link, 4, VT_ERR_FORMAT);
    size_t dynstr = 0x80 + 2 * sizeof(Elf64_Shdr);
    check_broken(dynstr + offsetof(Elf64_Shdr, sh_type), &not_strtab, 4, VT_ERR_FORMAT);
    check_broken(dynstr + offsetof(Elf64_Shdr, sh_size), &huge, 8, VT_ERR_FORMAT);
    /* a name offset past the table, a value outside every segment: no symbol */
    uint32_t far = 0x1000;
    check_broken(0x180 + sizeof(Elf64_Sym) + offsetof(Elf64_Sym, st_name), &far, 4, VT_OK);
    check_broken(0x180 + sizeof(Elf64_Sym) + offsetof(Elf64_Sym, st_value), &huge, 8, VT_OK);
    /* a string table that ends inside "alpha": the name is not alpha */
    struct img cut;
    build(&cut);
    uint64_t short_size = 4;
    memcpy(cut.b + dynstr + offsetof(Elf64_Shdr, sh_size), &short_size, 8);
    uint64_t o[NNAMES];
    ck_assert_int_eq(vt_inject_elf_lookup(cut.b, IMG_LEN, names, NNAMES, o, NULL), VT_OK);
    ck_assert_uint_eq(o[0], 0);
}
END_TEST

/* The readers on a real file: getpid in the libc this test runs with,
 * through our own maps, lands where the dynamic linker put it. */
START_TEST(test_inject_finds_a_real_function)
{
    void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    ck_assert_ptr_nonnull(libc);
    uintptr_t want = (uintptr_t)dlsym(libc, "getpid");
    ck_assert_uint_ne(want, 0);
    FILE *f = fopen("/proc/self/maps", "r");
    ck_assert_ptr_nonnull(f);
    static char maps[1 << 20];
    size_t n = fread(maps, 1, sizeof(maps) - 1, f);
    fclose(f);
    maps[n] = '\0';
    const char *p = maps;
    struct vt_inject_map m;
    int r;
    char path[PATH_MAX] = "";
    while ((r = vt_inject_maps_next(&p, &m)) != 0)
        if (r > 0 && want >= m.start && want < m.end)
            snprintf(path, sizeof(path), "%s", m.path);
    ck_assert_str_ne(path, "");
    int fd = open(path, O_RDONLY);
    ck_assert_int_ge(fd, 0);
    struct stat st;
    ck_assert_int_eq(fstat(fd, &st), 0);
    void *img = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    ck_assert_ptr_ne(img, MAP_FAILED);
    const char *const name[] = {"getpid"};
    uint64_t off;
    ck_assert_int_eq(vt_inject_elf_lookup(img, (size_t)st.st_size, name, 1, &off, NULL), VT_OK);
    munmap(img, (size_t)st.st_size);
    ck_assert_uint_ne(off, 0);
    uintptr_t got = 0;
    for (p = maps; (r = vt_inject_maps_next(&p, &m)) != 0;)
        if (r > 0 && strcmp(m.path, path) == 0 && off >= m.offset &&
            off - m.offset < m.end - m.start)
            got = (uintptr_t)(m.start + off - m.offset);
    ck_assert_uint_eq(got, want);
    dlclose(libc);
}
END_TEST

Suite *
inject_suite(void)
{
    Suite *s = suite_create("inject");
    TCase *tc = tcase_create("maps");
    tcase_add_test(tc, test_inject_maps_reads_every_kind_of_line);
    tcase_add_test(tc, test_inject_maps_skips_malformed_lines);
    suite_add_tcase(s, tc);
    tc = tcase_create("elf");
    tcase_add_test(tc, test_inject_elf_finds_defined_globals);
    tcase_add_test(tc, test_inject_elf_refuses_broken_images);
    tcase_add_test(tc, test_inject_finds_a_real_function);
    suite_add_tcase(s, tc);
    return s;
}

/* inject_parse.c: readers of what remote attach takes from its target; see
 * inject.h.
 *
 * /proc/PID/maps lines and the ELF files the target maps are untrusted: the
 * target may be anyone's program, and its files anything. Both readers check
 * every offset and size against what they were given and never trust a
 * count; tests/fuzz/fuzz_inject.c holds them to that. No ptrace here.
 *
 * Sections: maps, ELF.
 */
#include "inject.h"

#include <elf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* ---- maps --------------------------------------------------------------- */

/* Reads a hex number at *p (at least one digit, at most 16) and moves *p
 * past it. Returns 0, or -1 when there is none or it is too long. */
static int
hex(const char **p, uint64_t *out)
{
    uint64_t v = 0;
    int digits = 0;
    for (;; (*p)++, digits++) {
        char c = **p;
        int d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            break;
        if (digits == 16)
            return -1;
        v = v << 4 | (uint64_t)d;
    }
    if (digits == 0)
        return -1;
    *out = v;
    return 0;
}

/* Skips one or more blanks. Returns 0, or -1 when there was none. */
static int
blanks(const char **p)
{
    if (**p != ' ' && **p != '\t')
        return -1;
    while (**p == ' ' || **p == '\t')
        (*p)++;
    return 0;
}

/* Parses the line [p, end): "start-end perms offset dev inode [path]". */
static int
parse_line(const char *p, const char *end, struct vt_inject_map *m)
{
    static const char deleted[] = " (deleted)";
    uint64_t ignored;
    memset(m, 0, sizeof(*m));
    if (hex(&p, &m->start) != 0 || *p++ != '-' || hex(&p, &m->end) != 0 || m->end < m->start)
        return -1;
    if (blanks(&p) != 0 || end - p < 4)
        return -1;
    if ((p[0] != 'r' && p[0] != '-') || (p[1] != 'w' && p[1] != '-') ||
        (p[2] != 'x' && p[2] != '-') || (p[3] != 'p' && p[3] != 's'))
        return -1;
    m->prot = (p[0] == 'r' ? PROT_READ : 0) | (p[1] == 'w' ? PROT_WRITE : 0) |
              (p[2] == 'x' ? PROT_EXEC : 0);
    p += 4;
    if (blanks(&p) != 0 || hex(&p, &m->offset) != 0)
        return -1;
    /* dev "maj:min" */
    if (blanks(&p) != 0 || hex(&p, &ignored) != 0 || *p++ != ':' || hex(&p, &ignored) != 0)
        return -1;
    /* the inode: decimal, up to 20 digits */
    if (blanks(&p) != 0 || *p < '0' || *p > '9')
        return -1;
    while (*p >= '0' && *p <= '9')
        p++;
    if (p < end && *p != ' ' && *p != '\t')
        return -1;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    size_t len = (size_t)(end - p);
    if (len >= sizeof(m->path))
        return -1;
    memcpy(m->path, p, len);
    m->path[len] = '\0';
    size_t dl = sizeof(deleted) - 1;
    if (len > dl && memcmp(m->path + len - dl, deleted, dl) == 0) {
        m->path[len - dl] = '\0';
        m->deleted = 1;
    }
    return 0;
}

int
vt_inject_maps_next(const char **text, struct vt_inject_map *m)
{
    const char *p = *text;
    if (*p == '\0')
        return 0;
    const char *end = strchr(p, '\n');
    const char *next = end ? end + 1 : p + strlen(p);
    if (end == NULL)
        end = next;
    *text = next;
    return parse_line(p, end, m) == 0 ? 1 : -1;
}

/* ---- ELF ---------------------------------------------------------------- */

/* Whether [off, off + size) lies inside an image of len bytes. */
static int
inside(uint64_t off, uint64_t size, size_t len)
{
    return off <= len && size <= len - off;
}

/* The file offset of virtual address v, through the PT_LOAD headers, or 0
 * when none holds it. Code (in_file) must lie in the file; data may lie in
 * the zero-filled part past it, as far as its segment goes. */
static uint64_t
file_offset(const unsigned char *img, size_t len, const Elf64_Ehdr *eh, uint64_t v, int in_file)
{
    for (unsigned i = 0; i < eh->e_phnum; i++) {
        Elf64_Phdr ph;
        memcpy(&ph, img + eh->e_phoff + (uint64_t)i * sizeof(ph), sizeof(ph));
        uint64_t span = in_file ? ph.p_filesz : ph.p_memsz;
        if (ph.p_type != PT_LOAD || v < ph.p_vaddr || v - ph.p_vaddr >= span ||
            ph.p_offset > UINT64_MAX - span)
            continue;
        uint64_t off = v - ph.p_vaddr + ph.p_offset;
        return !in_file || inside(off, 1, len) ? off : 0;
    }
    return 0;
}

enum vt_err
vt_inject_elf_lookup(const unsigned char *img, size_t len, const char *const *names, size_t n,
                     uint64_t *offs, uint64_t *sizes)
{
    Elf64_Ehdr eh;
    for (size_t i = 0; i < n; i++) {
        offs[i] = 0;
        if (sizes)
            sizes[i] = 0;
    }
    if (len < sizeof(eh))
        return VT_ERR_FORMAT;
    memcpy(&eh, img, sizeof(eh));
    if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
        eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_machine != EM_X86_64 ||
        (eh.e_type != ET_EXEC && eh.e_type != ET_DYN))
        return VT_ERR_FORMAT;
    if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_shentsize != sizeof(Elf64_Shdr) ||
        !inside(eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr), len) ||
        !inside(eh.e_shoff, (uint64_t)eh.e_shnum * sizeof(Elf64_Shdr), len))
        return VT_ERR_FORMAT;
    /* .dynsym, found by its type; its strings are the section sh_link names. */
    Elf64_Shdr sym, str;
    unsigned i;
    for (i = 0; i < eh.e_shnum; i++) {
        memcpy(&sym, img + eh.e_shoff + (uint64_t)i * sizeof(sym), sizeof(sym));
        if (sym.sh_type == SHT_DYNSYM)
            break;
    }
    if (i == eh.e_shnum || sym.sh_link >= eh.e_shnum || sym.sh_entsize != sizeof(Elf64_Sym) ||
        !inside(sym.sh_offset, sym.sh_size, len))
        return VT_ERR_FORMAT;
    memcpy(&str, img + eh.e_shoff + (uint64_t)sym.sh_link * sizeof(str), sizeof(str));
    if (str.sh_type != SHT_STRTAB || !inside(str.sh_offset, str.sh_size, len))
        return VT_ERR_FORMAT;
    const char *strs = (const char *)img + str.sh_offset;
    uint64_t count = sym.sh_size / sizeof(Elf64_Sym);
    for (uint64_t k = 1; k < count; k++) { /* entry 0 is the null symbol */
        Elf64_Sym s;
        memcpy(&s, img + sym.sh_offset + k * sizeof(s), sizeof(s));
        int type = ELF64_ST_TYPE(s.st_info), bind = ELF64_ST_BIND(s.st_info);
        if (s.st_shndx == SHN_UNDEF || s.st_value == 0 || s.st_name >= str.sh_size ||
            (type != STT_FUNC && type != STT_OBJECT) || (bind != STB_GLOBAL && bind != STB_WEAK))
            continue;
        /* The name must end inside the table: no strnlen past its end. */
        const char *name = strs + s.st_name;
        size_t room = (size_t)(str.sh_size - s.st_name);
        for (size_t j = 0; j < n; j++) {
            size_t nl = strlen(names[j]);
            if (offs[j] != 0 || nl >= room || memcmp(name, names[j], nl + 1) != 0)
                continue;
            offs[j] = file_offset(img, len, &eh, s.st_value, type == STT_FUNC);
            if (sizes && offs[j] != 0)
                sizes[j] = s.st_size;
        }
    }
    return VT_OK;
}

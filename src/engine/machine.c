/* The machine class of a result (include/hybench/machine.h). */
#include "hybench/machine.h"

#include <oneapi/dnnl/dnnl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void copy_field(char *dst, size_t size, const char *value) {
  size_t n = strcspn(value, "\n");
  if (n >= size) n = size - 1;
  memcpy(dst, value, n);
  dst[n] = '\0';
}

/* The value of "key<TAB...>: value" when line is that key's line, else NULL. */
static const char *cpuinfo_value(const char *line, const char *key) {
  size_t n = strlen(key);
  if (strncmp(line, key, n) != 0 || (line[n] != '\t' && line[n] != ' ' && line[n] != ':')) return NULL;
  const char *colon = strchr(line + n, ':');
  if (!colon) return NULL;
  colon++;
  while (*colon == ' ') colon++;
  return colon;
}

static int has_flag(const char *flags, const char *name) {
  size_t n = strlen(name);
  for (const char *p = flags; (p = strstr(p, name)) != NULL; p += n) {
    int starts = p == flags || p[-1] == ' ';
    int ends = p[n] == ' ' || p[n] == '\n' || p[n] == '\0';
    if (starts && ends) return 1;
  }
  return 0;
}

static const char *onednn_isa_name(dnnl_cpu_isa_t isa) {
  switch (isa) {
    case dnnl_cpu_isa_all: return "all";
    case dnnl_cpu_isa_sse41: return "sse41";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx512_mic: return "avx512_mic";
    case dnnl_cpu_isa_avx512_mic_4ops: return "avx512_mic_4ops";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
  }
  return "unknown";
}

void hb_machine_describe(HbMachine *m) {
  memset(m, 0, sizeof *m);
  strcpy(m->vendor, "unknown");
  strcpy(m->family, "unknown");
  strcpy(m->model, "unknown");
  strcpy(m->stepping, "unknown");
  strcpy(m->model_name, "unknown");
  FILE *fp = fopen("/proc/cpuinfo", "r");
  if (fp) {
    char line[8192];
    int seen_flags = 0;
    /* The first processor's block describes the class: a machine has one. */
    while (fgets(line, sizeof line, fp)) {
      const char *v;
      if (line[0] == '\n') break;
      if ((v = cpuinfo_value(line, "vendor_id"))) copy_field(m->vendor, sizeof m->vendor, v);
      else if ((v = cpuinfo_value(line, "cpu family"))) copy_field(m->family, sizeof m->family, v);
      else if ((v = cpuinfo_value(line, "model name"))) copy_field(m->model_name, sizeof m->model_name, v);
      else if ((v = cpuinfo_value(line, "model"))) copy_field(m->model, sizeof m->model, v);
      else if ((v = cpuinfo_value(line, "stepping"))) copy_field(m->stepping, sizeof m->stepping, v);
      else if (!seen_flags && (v = cpuinfo_value(line, "flags"))) {
        seen_flags = 1;
        m->avx512f = has_flag(v, "avx512f");
        m->avx512_bf16 = has_flag(v, "avx512_bf16");
        m->amx_bf16 = has_flag(v, "amx_bf16");
      }
    }
    fclose(fp);
  }
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  m->n_cpus = n > 0 ? (int)n : 0;
  copy_field(m->onednn_isa, sizeof m->onednn_isa, onednn_isa_name(dnnl_get_effective_cpu_isa()));
}

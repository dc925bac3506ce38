/* Replay driver shared by the fuzz targets (see replay.h). */
#include "replay.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Corpus files are small; a bigger one is not a fuzz input. */
#define REPLAY_MAX_BYTES (1u << 20)

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return -1;
    }
    uint8_t *data = malloc(REPLAY_MAX_BYTES);
    size_t n = data ? fread(data, 1, REPLAY_MAX_BYTES, f) : 0;
    int bad = !data || ferror(f) || !feof(f);
    fclose(f);
    if (bad) {
        fprintf(stderr, "%s: cannot read (or larger than %u bytes)\n", path, REPLAY_MAX_BYTES);
        free(data);
        return -1;
    }
    LLVMFuzzerTestOneInput(data, n);
    free(data);
    return 0;
}

/* Replays @path (a file, or every regular file of a directory); returns the count. */
int fuzz_replay(const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode))
        return replay_file(path) < 0 ? -1 : 1;
    DIR *dir = opendir(path);
    if (!dir) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return -1;
    }
    int count = 0;
    struct dirent *de;
    while (count >= 0 && (de = readdir(dir)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char file[4096];
        snprintf(file, sizeof(file), "%s/%s", path, de->d_name);
        if (stat(file, &st) < 0 || !S_ISREG(st.st_mode))
            continue;
        count = replay_file(file) < 0 ? -1 : count + 1;
    }
    closedir(dir);
    return count;
}

int fuzz_replay_main(const char *name, int argc, char **argv)
{
    int total = 0;
    for (int i = 1; i < argc; i++) {
        int n = fuzz_replay(argv[i]);
        if (n < 0)
            return 1;
        total += n;
    }
    printf("%s: %d inputs replayed\n", name, total);
    return total > 0 ? 0 : 1;
}

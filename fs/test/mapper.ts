// Test helper: a python3 child that maps a file of a mount (node cannot mmap; python3 is on every
// machine that builds hush, node-gyp needs it). `python3 -c MAPPER FILE` opens FILE and prints one
// JSON line per step, {"step","text"} or {"step","error":"ENODEV"} (test data only: the bytes as text):
//   read    → pread of the whole file
//   shared  → mmap(MAP_SHARED, PROT_READ) of it, read whole, unmapped
//   private → mmap(MAP_PRIVATE, PROT_READ) of it, read whole, unmapped
//   mapped  → a second private mapping, made now and not touched yet
// then obeys one command per stdin line: `read` (pread again), `touch` (reads the second mapping: a
// page the kernel cannot fetch kills the process with SIGBUS).
export const MAPPER = String.raw`
import errno, json, mmap, os, sys

def out(**kw):
    print(json.dumps(kw), flush=True)

def code(e):
    return errno.errorcode.get(e.errno, str(e.errno))

fd = os.open(sys.argv[1], os.O_RDONLY)
size = os.fstat(fd).st_size

def pread():
    try:
        out(step='read', text=os.pread(fd, size, 0).decode('latin1'))
    except OSError as e:
        out(step='read', error=code(e))

pread()
for step, flags in (('shared', mmap.MAP_SHARED), ('private', mmap.MAP_PRIVATE)):
    try:
        m = mmap.mmap(fd, size, flags=flags, prot=mmap.PROT_READ)
    except OSError as e:
        out(step=step, error=code(e))
        continue
    out(step=step, text=m[:].decode('latin1'))
    m.close()
late = mmap.mmap(fd, size, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ)
out(step='mapped')
for line in sys.stdin:
    if line.strip() == 'read':
        pread()
    elif line.strip() == 'touch':
        out(step='touch', text=late[:].decode('latin1'))
`;

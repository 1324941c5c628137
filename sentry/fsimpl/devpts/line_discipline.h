// LineDiscipline: the tty line discipline of a pty (Linux's n_tty), as
// plain data with no locking or waiting; Terminal (terminal.h) owns one
// and serializes access.
//
//   LineDiscipline ld;                  // pty-replica defaults: ICANON, ECHO, ISIG ...
//   auto sigs = ld.Input("ls\r");       // typed at the master: echo "ls\r\n", a line "ls\n"
//   std::string line; ld.Read(64, &line);    // the replica reads "ls\n"
//   ld.Output("x\n");                   // the replica writes: master sees "x\r\n"
//
// Input (master to replica): ISTRIP, IGNCR/ICRNL/INLCR; with ISIG the
// VINTR, VQUIT and VSUSP characters become SIGINT, SIGQUIT, SIGTSTP for
// the foreground process group (returned to the caller, which sends them)
// and flush the queues unless NOFLSH; with ICANON, lines are edited with
// VERASE, VKILL and VWERASE and complete at '\n', VEOL, VEOL2 or VEOF (a
// VEOF at the start of a line reads as end of file); ECHO, ECHOE, ECHOK,
// ECHOKE, ECHOCTL (control characters as ^X) and ECHONL. Output (replica
// to master, echoes included) with OPOST: ONLCR, OCRNL, ONLRET.
// Not modelled: IXON flow control (VSTART/VSTOP are ordinary input),
// VLNEXT, VREPRINT, VDISCARD, IUTF8-aware erase, and VTIME (a non-canonical
// read waits for max(1, VMIN) bytes, without a timer).
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace palisade {

// struct termios as the TCGETS/TCSETS ioctls pass it (asm-generic
// termbits.h, 36 bytes), unlike glibc's 60-byte struct.
struct KernelTermios {
  uint32_t c_iflag = 0, c_oflag = 0, c_cflag = 0, c_lflag = 0;
  uint8_t c_line = 0;
  uint8_t c_cc[19] = {};
};
static_assert(sizeof(KernelTermios) == 36);

// The replica's initial settings: tty_std_termios as the pty driver sets
// it (ICRNL IXON / OPOST ONLCR / B38400 CS8 CREAD / ISIG ICANON ECHO ECHOE
// ECHOK ECHOCTL ECHOKE IEXTEN; ^C ^\ DEL ^U ^D, VMIN 1 ...).
KernelTermios DefaultReplicaTermios();

class LineDiscipline {
 public:
  static constexpr size_t kMaxInput = 65536;   // queued input before writers wait
  static constexpr size_t kMaxOutput = 65536;  // queued output before writers wait
  static constexpr size_t kMaxCanon = 4095;    // chars in a line being edited (N_TTY_BUF_SIZE - 1)

  LineDiscipline() : termios_(DefaultReplicaTermios()) {}

  const KernelTermios& termios() const { return termios_; }
  // TCSETS*: switching ICANON off hands the line being edited to readers
  // as raw input; switching it on makes pending raw input one line.
  void SetTermios(const KernelTermios& t);

  // Processes bytes typed at the master. Returns the signals (SIGINT,
  // SIGQUIT, SIGTSTP) to send to the foreground process group, in order.
  // Stops early when the input queue is full; *consumed says how far.
  std::vector<int> Input(std::string_view in, size_t* consumed = nullptr);
  // Replica writes: output processing into the master's queue. Returns the
  // bytes of `out` taken (all unless the output queue is full).
  size_t Output(std::string_view out);

  // Replica side: is a read possible (a line, or enough raw bytes)?
  bool ReadableByReplica() const;
  // Takes up to max bytes for the replica: one line (or part of it) in
  // canonical mode, raw bytes otherwise. Returns false if nothing is ready
  // (the caller sleeps); true with an empty *out means end of file (VEOF)
  // or a VMIN=0 poll read.
  bool Read(size_t max, std::string* out);
  // Master side.
  bool ReadableByMaster() const { return !output_.empty(); }
  size_t ReadOutput(size_t max, std::string* out);
  bool InputRoom() const { return InputSize() < kMaxInput; }
  bool OutputRoom() const { return output_.size() < kMaxOutput; }

  size_t InputAvailable() const;  // FIONREAD on the replica
  size_t OutputQueued() const { return output_.size(); }
  void FlushInput();
  void FlushOutput() { output_.clear(); }

 private:
  bool Has(uint32_t KernelTermios::*field, uint32_t bit) const { return (termios_.*field) & bit; }
  uint8_t Cc(int i) const { return termios_.c_cc[i]; }
  bool IsCc(uint8_t c, int i) const { return Cc(i) != 0 && c == Cc(i); }  // _POSIX_VDISABLE is 0
  size_t InputSize() const;
  void Echo(uint8_t c);        // echo one input char (ECHOCTL form if needed)
  void EchoRaw(std::string_view s);
  void EraseLast(bool visual);  // drop the last char of line_, with ECHOE rubout
  void CompleteLine(bool eof);

  KernelTermios termios_;
  std::string line_;                // canonical line being edited
  std::deque<std::string> lines_;   // completed lines ("" = end of file)
  std::string raw_;                 // non-canonical input
  std::string output_;              // to the master
};

}  // namespace palisade

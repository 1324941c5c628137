#include "sentry/fsimpl/devpts/line_discipline.h"

#include <signal.h>
#include <termios.h>

#include <algorithm>

namespace palisade {
namespace {

bool IsCntrl(uint8_t c) { return c < 32 || c == 127; }

}  // namespace

KernelTermios DefaultReplicaTermios() {
  KernelTermios t;
  t.c_iflag = ICRNL | IXON;
  t.c_oflag = OPOST | ONLCR;
  t.c_cflag = B38400 | CS8 | CREAD;
  t.c_lflag = ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN;
  // INIT_C_CC: intr ^C, quit ^\, erase DEL, kill ^U, eof ^D, time 0, min 1,
  // swtc 0, start ^Q, stop ^S, susp ^Z, eol 0, reprint ^R, discard ^O,
  // werase ^W, lnext ^V, eol2 0.
  const uint8_t cc[] = {3, 034, 0177, 025, 4, 0, 1, 0, 021, 023, 032, 0, 022, 017, 027, 026, 0};
  std::copy(std::begin(cc), std::end(cc), t.c_cc);
  return t;
}

void LineDiscipline::SetTermios(const KernelTermios& t) {
  bool was_canon = termios_.c_lflag & ICANON;
  termios_ = t;
  bool canon = termios_.c_lflag & ICANON;
  if (was_canon && !canon) {
    for (const std::string& l : lines_) raw_ += l;
    raw_ += line_;
    lines_.clear();
    line_.clear();
  } else if (!was_canon && canon && !raw_.empty()) {
    lines_.push_back(std::move(raw_));
    raw_.clear();
  }
}

size_t LineDiscipline::InputSize() const {
  size_t n = raw_.size() + line_.size();
  for (const std::string& l : lines_) n += l.size();
  return n;
}

size_t LineDiscipline::InputAvailable() const {
  if (!(termios_.c_lflag & ICANON)) return raw_.size();
  size_t n = 0;
  for (const std::string& l : lines_) n += l.size();
  return n;
}

void LineDiscipline::FlushInput() {
  line_.clear();
  lines_.clear();
  raw_.clear();
}

void LineDiscipline::EchoRaw(std::string_view s) { Output(s); }

void LineDiscipline::Echo(uint8_t c) {
  if (Has(&KernelTermios::c_lflag, ECHOCTL) && IsCntrl(c) && c != '\t' && c != '\n') {
    char s[2] = {'^', static_cast<char>(c ^ 0100)};
    EchoRaw(std::string_view(s, 2));
  } else {
    char ch = static_cast<char>(c);
    EchoRaw(std::string_view(&ch, 1));
  }
}

void LineDiscipline::EraseLast(bool visual) {
  if (line_.empty()) return;
  uint8_t c = static_cast<uint8_t>(line_.back());
  line_.pop_back();
  if (!visual) return;
  int cols = (Has(&KernelTermios::c_lflag, ECHOCTL) && IsCntrl(c) && c != '\t') ? 2 : 1;
  for (int i = 0; i < cols; i++) EchoRaw("\b \b");
}

void LineDiscipline::CompleteLine(bool eof) {
  (void)eof;  // an EOF line is just the text so far; "" reads as end of file
  lines_.push_back(std::move(line_));
  line_.clear();
}

std::vector<int> LineDiscipline::Input(std::string_view in, size_t* consumed) {
  std::vector<int> sigs;
  const uint32_t lflag = termios_.c_lflag, iflag = termios_.c_iflag;
  const bool canon = lflag & ICANON, echo = lflag & ECHO;
  size_t i = 0;
  for (; i < in.size(); i++) {
    if (InputSize() >= kMaxInput) break;
    uint8_t c = static_cast<uint8_t>(in[i]);
    if (iflag & ISTRIP) c &= 0x7f;
    if (c == '\r') {
      if (iflag & IGNCR) continue;
      if (iflag & ICRNL) c = '\n';
    } else if (c == '\n' && (iflag & INLCR)) {
      c = '\r';
    }
    if (lflag & ISIG) {
      int sig = IsCc(c, VINTR) ? SIGINT : IsCc(c, VQUIT) ? SIGQUIT : IsCc(c, VSUSP) ? SIGTSTP : 0;
      if (sig) {
        if (!(lflag & NOFLSH)) {
          FlushInput();
          FlushOutput();
        }
        if (echo) Echo(c);
        sigs.push_back(sig);
        continue;
      }
    }
    if (canon) {
      if (IsCc(c, VERASE)) {
        EraseLast(echo && (lflag & ECHOE));
        if (echo && !(lflag & ECHOE)) Echo(c);
        continue;
      }
      if (IsCc(c, VWERASE) && (lflag & IEXTEN)) {
        bool visual = echo && (lflag & ECHOE);
        while (!line_.empty() && (line_.back() == ' ' || line_.back() == '\t')) EraseLast(visual);
        while (!line_.empty() && line_.back() != ' ' && line_.back() != '\t') EraseLast(visual);
        continue;
      }
      if (IsCc(c, VKILL)) {
        if (echo && (lflag & ECHOE) && (lflag & ECHOKE)) {
          while (!line_.empty()) EraseLast(true);
        } else {
          line_.clear();
          if (echo) {
            Echo(c);
            if (lflag & ECHOK) EchoRaw("\n");
          }
        }
        continue;
      }
      if (IsCc(c, VEOF)) {
        CompleteLine(true);
        continue;
      }
      bool eol = c == '\n' || IsCc(c, VEOL) || (IsCc(c, VEOL2) && (lflag & IEXTEN));
      if (line_.size() >= kMaxCanon && !eol) continue;  // n_tty drops chars past the limit
      line_.push_back(static_cast<char>(c));
      if (echo || (c == '\n' && (lflag & ECHONL))) Echo(c);
      if (eol) CompleteLine(false);
      continue;
    }
    raw_.push_back(static_cast<char>(c));
    if (echo) Echo(c);
  }
  if (consumed) *consumed = i;
  return sigs;
}

size_t LineDiscipline::Output(std::string_view out) {
  const uint32_t oflag = termios_.c_oflag;
  size_t i = 0;
  for (; i < out.size() && output_.size() < kMaxOutput; i++) {
    char c = out[i];
    if (oflag & OPOST) {
      if (c == '\n' && (oflag & ONLCR)) {
        output_ += "\r\n";
        continue;
      }
      if (c == '\r' && (oflag & OCRNL)) c = '\n';
    }
    output_.push_back(c);
  }
  return i;
}

bool LineDiscipline::ReadableByReplica() const {
  if (termios_.c_lflag & ICANON) return !lines_.empty();
  size_t min = std::max<size_t>(1, Cc(VMIN));
  return raw_.size() >= min || (Cc(VMIN) == 0 && Cc(VTIME) == 0);
}

bool LineDiscipline::Read(size_t max, std::string* out) {
  out->clear();
  if (termios_.c_lflag & ICANON) {
    if (lines_.empty()) return false;
    std::string& l = lines_.front();
    if (l.empty()) {  // VEOF at the start of a line
      lines_.pop_front();
      return true;
    }
    size_t n = std::min(max, l.size());
    out->assign(l, 0, n);
    if (n == l.size()) {
      lines_.pop_front();
    } else {
      l.erase(0, n);
    }
    return true;
  }
  // Enough for VMIN (or for the whole request, if smaller); VMIN = VTIME
  // = 0 is a poll that may return nothing.
  size_t need = std::min<size_t>(max, std::max<size_t>(1, Cc(VMIN)));
  if (Cc(VMIN) == 0 && Cc(VTIME) == 0) need = 0;
  if (raw_.size() < need) return false;
  size_t n = std::min(max, raw_.size());
  out->assign(raw_, 0, n);
  raw_.erase(0, n);
  return true;
}

size_t LineDiscipline::ReadOutput(size_t max, std::string* out) {
  size_t n = std::min(max, output_.size());
  out->assign(output_, 0, n);
  output_.erase(0, n);
  return n;
}

}  // namespace palisade

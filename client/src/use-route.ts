// Which page the address bar names, kept in step with Back and Forward. A room named loosely (/r/Dev) is
// shown under its canonical URL (/r/dev), put in place with replaceState so that Back does not return to it.
import { useEffect, useState } from 'preact/hooks';
import { pathForRoom, routeForPath, type Route } from './routes';

export interface Routing {
  route: Route;
  /** Opens a room: a new history entry, or with `replace` one in place of the current (a dead end's). */
  goToRoom: (room: string, options?: { replace?: boolean }) => void;
}

export function useRoute(): Routing {
  const [route, setRoute] = useState(() => routeForPath(location.pathname));

  useEffect(() => {
    const onPop = () => setRoute(routeForPath(location.pathname));
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, []);

  useEffect(() => {
    if (route.kind === 'room' && route.path !== location.pathname) {
      history.replaceState(history.state, '', route.path + location.search + location.hash);
    }
  }, [route]);

  const goToRoom = (room: string, { replace = false } = {}) => {
    if (route.kind === 'room' && route.room === room) return;
    const path = pathForRoom(room);
    if (replace) history.replaceState(null, '', path);
    else history.pushState(null, '', path);
    setRoute(routeForPath(path));
  };

  return { route, goToRoom };
}
